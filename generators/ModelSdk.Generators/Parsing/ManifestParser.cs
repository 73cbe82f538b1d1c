using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using Microsoft.CodeAnalysis.Text;
using ModelSdk.Generators.Json;
using ModelSdk.Generators.Model;

namespace ModelSdk.Generators.Parsing
{
    /// <summary>
    /// Turns a manifest's text into a <see cref="ModelSpec"/>, or into the diagnostic that says what is wrong.
    /// Never throws for bad input: the compiler would only show a vague CS8785 warning and drop the class.
    /// </summary>
    internal static class ManifestParser
    {
        public static bool IsManifestPath(string path) =>
            path.EndsWith(ManifestSchema.FileSuffix, StringComparison.OrdinalIgnoreCase);

        public static ManifestParseResult Parse(string path, SourceText? text, CancellationToken cancellationToken)
        {
            if (text is null) return Invalid(path, null, 0, "the file could not be read");

            string content = text.ToString();
            try
            {
                JsonNode root = JsonReader.Parse(content);
                cancellationToken.ThrowIfCancellationRequested();
                if (root.Kind != JsonKind.Object) throw new ManifestException("the top level must be a JSON object", root.Start);

                // The schema decides how to read everything else, so it is checked first and on its own.
                JsonNode schema = Required(root, "schema", "schema", JsonKind.String);
                if (schema.Text != ManifestSchema.Current)
                {
                    return ManifestParseResult.Failure(path, DiagnosticInfo.Create(
                        DiagnosticDescriptors.IncompatibleSchema, path, SpanAt(text, schema.Start), LineSpanAt(text, schema.Start),
                        path, schema.Text ?? "", ManifestSchema.Current));
                }

                return ManifestParseResult.Success(path, ReadSpec(root));
            }
            catch (JsonReaderException e)
            {
                return Invalid(path, text, e.Position, "malformed JSON: " + e.Message);
            }
            catch (ManifestException e)
            {
                return Invalid(path, text, e.Position, e.Message);
            }
        }

        private static ModelSpec ReadSpec(JsonNode root)
        {
            string name = RequiredString(root, "name", "name");
            string architecture = OptionalString(root, "architecture", "architecture") ?? ManifestSchema.DefaultArchitecture;
            string weightFormat = RequiredString(root, "weightFormat", "weightFormat");

            JsonNode config = Required(root, "config", "config", JsonKind.Object);
            int dim = PositiveInt(config, "dim");
            int hiddenDim = PositiveInt(config, "hiddenDim");
            int layers = PositiveInt(config, "layers");
            int heads = PositiveInt(config, "heads");
            int kvHeads = PositiveInt(config, "kvHeads");
            int vocabSize = PositiveInt(config, "vocabSize");
            int contextLength = PositiveInt(config, "contextLength");
            if (dim % heads != 0) throw new ManifestException($"config.heads ({heads}) does not divide config.dim ({dim})", config.Property("heads")!.Start);
            if (kvHeads > heads || heads % kvHeads != 0) throw new ManifestException($"config.kvHeads ({kvHeads}) does not divide config.heads ({heads})", config.Property("kvHeads")!.Start);

            JsonNode? tokenizer = Optional(root, "tokenizer", "tokenizer", JsonKind.Object);
            int bosId = TokenId(tokenizer, "bosId", ManifestSchema.DefaultBosId, vocabSize);
            int eosId = TokenId(tokenizer, "eosId", ManifestSchema.DefaultEosId, vocabSize);

            JsonNode classNameNode = Required(root, "className", "className", JsonKind.String);
            string className = classNameNode.Text!;
            if (ClassNames.ProblemWithClassName(className) is string classProblem) throw new ManifestException(classProblem, classNameNode.Start);

            JsonNode? namespaceNode = Optional(root, "namespace", "namespace", JsonKind.String);
            string ns = namespaceNode?.Text ?? "";
            if (ClassNames.ProblemWithNamespace(ns) is string nsProblem) throw new ManifestException(nsProblem, namespaceNode!.Start);

            string artifact = RequiredString(root, "artifact", "artifact");

            return new ModelSpec(
                ns, className, name, architecture, weightFormat, artifact,
                dim, hiddenDim, layers, heads, kvHeads, vocabSize, contextLength,
                bosId, eosId, CheckpointFiles(root))
            {
                Quality = Quality(root),
            };
        }

        /// <summary>
        /// The build's quality metrics (present when the Model item has EvaluationData). Lenient like every optional part:
        /// metrics of another shape (a future or foreign writer) give no Quality class rather than an error.
        /// </summary>
        private static QualitySpec? Quality(JsonNode root)
        {
            JsonNode? metrics = root.Property("metrics");
            if (metrics is null || metrics.Kind != JsonKind.Object) return null;
            string? Number(string property) =>
                metrics.Property(property) is { Kind: JsonKind.Number } node &&
                double.TryParse(node.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && !double.IsNaN(value) && !double.IsInfinity(value)
                    ? node.Text
                    : null;
            if (metrics.Property("text") is not { Kind: JsonKind.String, Text: { Length: > 0 } text }) return null;
            if (metrics.Property("tokens") is not { Kind: JsonKind.Number } tokens || !TryParseInt(tokens.Text!, out int tokenCount) || tokenCount < 0) return null;
            string? perplexity = Number("perplexity"), reference = Number("referencePerplexity"), increase = Number("perplexityIncrease");
            string? kl = Number("klDivergence"), top1 = Number("top1Agreement");
            if (perplexity is null || reference is null || increase is null || kl is null || top1 is null) return null;
            return new QualitySpec(text, tokenCount, perplexity, reference, increase, kl, top1);
        }

        /// <summary>The checkpoint file names from provenance.inputs; only used in the class summary, so lenient.</summary>
        private static EquatableArray<string> CheckpointFiles(JsonNode root)
        {
            JsonNode? provenance = Optional(root, "provenance", "provenance", JsonKind.Object);
            JsonNode? inputs = provenance is null ? null : Optional(provenance, "inputs", "provenance.inputs", JsonKind.Array);
            var files = new List<string>();
            foreach (JsonNode input in inputs?.Items ?? Array.Empty<JsonNode>())
            {
                if (input.Property("role") is { Kind: JsonKind.String, Text: "checkpoint" } &&
                    input.Property("file") is { Kind: JsonKind.String, Text: { Length: > 0 } file })
                {
                    files.Add(file);
                }
            }
            return new EquatableArray<string>(files.ToArray());
        }

        private static int TokenId(JsonNode? tokenizer, string property, int fallback, int vocabSize)
        {
            JsonNode? node = tokenizer is null ? null : Optional(tokenizer, property, "tokenizer." + property, JsonKind.Number);
            if (node is null) return fallback;
            if (!TryParseInt(node.Text!, out int id) || id < 0 || id >= vocabSize)
                throw new ManifestException($"tokenizer.{property} must be an integer in 0..{vocabSize - 1}, found {node.Text}", node.Start);
            return id;
        }

        private static int PositiveInt(JsonNode config, string property)
        {
            JsonNode node = Required(config, property, "config." + property, JsonKind.Number);
            if (!TryParseInt(node.Text!, out int value) || value <= 0)
                throw new ManifestException($"config.{property} must be a positive 32-bit integer, found {node.Text}", node.Start);
            return value;
        }

        // Integers only: "288.0" or "2.88e2" would mean the writer changed, so they are refused rather than rounded.
        private static bool TryParseInt(string text, out int value) =>
            int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);

        private static string RequiredString(JsonNode obj, string property, string path)
        {
            JsonNode node = Required(obj, property, path, JsonKind.String);
            if (node.Text!.Length == 0) throw new ManifestException($"'{path}' must not be empty", node.Start);
            return node.Text;
        }

        private static string? OptionalString(JsonNode obj, string property, string path)
        {
            JsonNode? node = Optional(obj, property, path, JsonKind.String);
            return node?.Text is { Length: > 0 } text ? text : null;
        }

        private static JsonNode Required(JsonNode obj, string property, string path, JsonKind kind) =>
            Optional(obj, property, path, kind) ?? throw new ManifestException($"required property '{path}' is missing", obj.Start);

        /// <summary>The property, or null when absent or JSON null; a value of another kind is an error.</summary>
        private static JsonNode? Optional(JsonNode obj, string property, string path, JsonKind kind)
        {
            JsonNode? node = obj.Property(property);
            if (node is null || node.Kind == JsonKind.Null) return null;
            if (node.Kind != kind) throw new ManifestException($"'{path}' must be {Describe(kind)}, found {Describe(node.Kind)}", node.Start);
            return node;
        }

        private static string Describe(JsonKind kind)
        {
            switch (kind)
            {
                case JsonKind.Object: return "an object";
                case JsonKind.Array: return "an array";
                case JsonKind.String: return "a string";
                case JsonKind.Number: return "a number";
                case JsonKind.Null: return "null";
                default: return "a boolean";
            }
        }

        private static ManifestParseResult Invalid(string path, SourceText? text, int position, string problem) =>
            ManifestParseResult.Failure(path, DiagnosticInfo.Create(
                DiagnosticDescriptors.InvalidManifest, path,
                text is null ? default : SpanAt(text, position),
                text is null ? default : LineSpanAt(text, position),
                path, problem));

        private static TextSpan SpanAt(SourceText text, int position) => new TextSpan(Math.Min(position, text.Length), 0);

        private static LinePositionSpan LineSpanAt(SourceText text, int position)
        {
            LinePosition at = text.Lines.GetLinePosition(Math.Min(position, text.Length));
            return new LinePositionSpan(at, at);
        }
    }
}

using System.Collections.Generic;
using Microsoft.CodeAnalysis.CSharp;

namespace ModelSdk.Generators.Parsing
{
    /// <summary>Checks the C# names a manifest asks for, so a bad name is MSDK1501 rather than broken generated code.</summary>
    internal static class ClassNames
    {
        // A class cannot declare a member with its own name (CS0542): these names are taken by the generated members.
        private static readonly HashSet<string> GeneratedMembers = new HashSet<string>(System.StringComparer.Ordinal)
        {
            "ArtifactFileName", "ModelName", "WeightFormat", "Dim", "HiddenDim", "Layers", "Heads", "KvHeads",
            "HeadSize", "VocabSize", "ContextLength", "BosTokenId", "EosTokenId", "Load", "Model", "Generate",
            "GenerateStreamingAsync", "Tokenize", "Decode", "GetNextTokenLogits", "Dispose", "Quality",
        };

        /// <summary>Why <paramref name="name"/> cannot be the class name, or null when it can.</summary>
        public static string? ProblemWithClassName(string name)
        {
            if (!IsIdentifier(name)) return $"className '{name}' is not a valid C# identifier";
            if (GeneratedMembers.Contains(name)) return $"className '{name}' is the name of a generated member; choose another name";
            return null;
        }

        /// <summary>Why <paramref name="ns"/> cannot be the namespace, or null when it can (empty means global).</summary>
        public static string? ProblemWithNamespace(string ns)
        {
            if (ns.Length == 0) return null;
            foreach (string part in ns.Split('.'))
            {
                if (!IsIdentifier(part) || part == "global") return $"namespace '{ns}' is not a valid C# namespace name";
            }
            return null;
        }

        // Keywords would need '@'; a model name never needs one, so they are rejected rather than escaped.
        private static bool IsIdentifier(string name) =>
            SyntaxFacts.IsValidIdentifier(name) && SyntaxFacts.GetKeywordKind(name) == SyntaxKind.None;
    }
}

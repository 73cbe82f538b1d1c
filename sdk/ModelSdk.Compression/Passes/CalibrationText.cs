using Microsoft.ML.Tokenizers;
using ModelSdk.Diagnostics;
using ModelSdk.Tokenizers;

namespace ModelSdk.Compression.Passes;

/// <summary>How calibration text becomes token sequences. Enters the cache key (see <see cref="CacheKeyText"/>).</summary>
/// <param name="MaxSequences">At most this many sequences (default 128).</param>
/// <param name="MaxTokens">At most this many tokens per sequence, BOS included (default 256; never more than the model's context).</param>
public sealed record CalibrationSettings(int MaxSequences = 128, int MaxTokens = 256)
{
    public static CalibrationSettings Default { get; } = new();

    public string CacheKeyText => $"sequences={MaxSequences};tokens={MaxTokens}";
}

/// <summary>
/// Calibration data: a text file tokenized with the model's SentencePiece tokenizer (Microsoft.ML.Tokenizers'
/// LlamaTokenizer over tokenizer.model, as the runtime tokenizes). Deterministic: the documents (separated by lines
/// <c>&lt;|endoftext|&gt;</c>, as in TinyStories' files; a file without separators is one document) are taken in order, each
/// tokenized with BOS and cut into consecutive windows of at most <see cref="CalibrationSettings.MaxTokens"/> tokens, every
/// window starting with BOS, until <see cref="CalibrationSettings.MaxSequences"/> windows are collected.
/// </summary>
public sealed class CalibrationText
{
    public const string DocumentSeparator = "<|endoftext|>";

    public CalibrationText(IReadOnlyList<int[]> sequences) => Sequences = sequences;

    /// <summary>Token sequences, each starting with BOS (id 1 for Llama tokenizers).</summary>
    public IReadOnlyList<int[]> Sequences { get; }

    public int TokenCount => Sequences.Sum(s => s.Length);

    /// <summary>Reads and tokenizes <paramref name="textPath"/>; MSDK1014 when it is missing, unreadable or yields no sequence.</summary>
    public static CalibrationText Load(string textPath, string tokenizerPath, CalibrationSettings settings, int contextLength)
    {
        if (!File.Exists(textPath))
            throw new ModelSdkException(DiagnosticCodes.CalibrationDataInvalid, "The calibration text does not exist.", textPath);
        string text;
        try
        {
            text = File.ReadAllText(textPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelSdkException(DiagnosticCodes.CalibrationDataInvalid, $"The calibration text cannot be read: {e.Message}", textPath);
        }
        var tokenizerBytes = File.ReadAllBytes(tokenizerPath);
        SentencePieceModel.Parse(tokenizerBytes, tokenizerPath);
        var tokenizer = LlamaTokenizers.Create(tokenizerBytes, tokenizerPath);
        var sequences = Tokenize(text, tokenizer, settings, contextLength);
        if (sequences.Count == 0)
            throw new ModelSdkException(DiagnosticCodes.CalibrationDataInvalid,
                "The calibration text is empty: it has no document of at least one token.", textPath);
        return new CalibrationText(sequences);
    }

    public static IReadOnlyList<int[]> Tokenize(string text, LlamaTokenizer tokenizer, CalibrationSettings settings, int contextLength)
    {
        const int bos = 1;
        var length = Math.Max(2, Math.Min(settings.MaxTokens, contextLength));
        var sequences = new List<int[]>();
        foreach (var document in SplitDocuments(text))
        {
            // Encoded as the runtime encodes a prompt (with BOS), then cut after the BOS.
            var encoded = tokenizer.EncodeToIds(document, addBeginningOfSentence: true, addEndOfSentence: false);
            var ids = encoded.Count > 0 && encoded[0] == bos ? encoded.Skip(1).ToArray() : encoded.ToArray();
            for (var at = 0; at < ids.Length && sequences.Count < settings.MaxSequences; at += length - 1)
            {
                var take = Math.Min(length - 1, ids.Length - at);
                var sequence = new int[take + 1];
                sequence[0] = bos;
                Array.Copy(ids, at, sequence, 1, take);
                sequences.Add(sequence);
            }
            if (sequences.Count >= settings.MaxSequences) break;
        }
        return sequences;
    }

    /// <summary>Documents separated by lines that read <c>&lt;|endoftext|&gt;</c>, each trimmed; empty ones dropped.</summary>
    public static IReadOnlyList<string> SplitDocuments(string text)
    {
        var documents = new List<string>();
        var current = new System.Text.StringBuilder();
        foreach (var line in text.ReplaceLineEndings("\n").Split('\n'))
        {
            if (line.Trim() == DocumentSeparator)
            {
                Flush();
                continue;
            }
            current.Append(line).Append('\n');
        }
        Flush();
        return documents;

        void Flush()
        {
            var document = current.ToString().Trim();
            if (document.Length > 0) documents.Add(document);
            current.Clear();
        }
    }
}

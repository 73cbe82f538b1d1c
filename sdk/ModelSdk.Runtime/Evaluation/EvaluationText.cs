namespace ModelSdk.Runtime.Evaluation;

/// <summary>Splits an evaluation text into documents the way the TinyStories files separate stories.</summary>
public static class EvaluationText
{
    public const string DocumentSeparator = "<|endoftext|>";

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

using Microsoft.CodeAnalysis.Text;

namespace ModelSdk.Generators.Tests.Infrastructure;

/// <summary>Test source with the expected diagnostic spans marked as [|...|] (the Roslyn test convention).</summary>
internal static class Markup
{
    public static (string Source, IReadOnlyList<TextSpan> Spans) Parse(string markup)
    {
        var source = new System.Text.StringBuilder(markup.Length);
        var spans = new List<TextSpan>();
        int? start = null;
        for (int i = 0; i < markup.Length; i++)
        {
            if (string.CompareOrdinal(markup, i, "[|", 0, 2) == 0)
            {
                start = source.Length;
                i++;
            }
            else if (string.CompareOrdinal(markup, i, "|]", 0, 2) == 0)
            {
                spans.Add(TextSpan.FromBounds(start ?? throw new FormatException("'|]' without '[|'"), source.Length));
                start = null;
                i++;
            }
            else
            {
                source.Append(markup[i]);
            }
        }
        return (source.ToString(), spans);
    }
}

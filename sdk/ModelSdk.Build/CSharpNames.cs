using System.Text;

namespace ModelSdk.Build;

/// <summary>C# naming rules for generated classes (the task cannot use Roslyn, so the ASCII subset is checked here).</summary>
internal static class CSharpNames
{
    private static readonly HashSet<string> Keywords =
    [
        "abstract", "as", "base", "bool", "break", "byte", "case", "catch", "char", "checked", "class", "const", "continue",
        "decimal", "default", "delegate", "do", "double", "else", "enum", "event", "explicit", "extern", "false", "finally",
        "fixed", "float", "for", "foreach", "goto", "if", "implicit", "in", "int", "interface", "internal", "is", "lock",
        "long", "namespace", "new", "null", "object", "operator", "out", "override", "params", "private", "protected",
        "public", "readonly", "ref", "return", "sbyte", "sealed", "short", "sizeof", "stackalloc", "static", "string",
        "struct", "switch", "this", "throw", "true", "try", "typeof", "uint", "ulong", "unchecked", "unsafe", "ushort",
        "using", "virtual", "void", "volatile", "while",
    ];

    public static bool IsIdentifier(string name)
        => name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] == '_')
            && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') && !Keywords.Contains(name);

    public static bool IsNamespace(string name) => name.Split('.').All(IsIdentifier);

    /// <summary>"stories15M" -> "Stories15M", "my-model.v2" -> "MyModelV2", "7b" -> "Model7b".</summary>
    public static string ToTypeName(string fileName)
    {
        var result = new StringBuilder();
        foreach (var part in fileName.Split(c => !char.IsAsciiLetterOrDigit(c)))
        {
            if (part.Length == 0) continue;
            result.Append(char.ToUpperInvariant(part[0])).Append(part, 1, part.Length - 1);
        }
        if (result.Length == 0 || char.IsAsciiDigit(result[0])) result.Insert(0, "Model");
        return result.ToString();
    }

    private static string[] Split(this string text, Func<char, bool> isSeparator)
    {
        var parts = new List<string>();
        var start = 0;
        for (var i = 0; i <= text.Length; i++)
        {
            if (i < text.Length && !isSeparator(text[i])) continue;
            parts.Add(text[start..i]);
            start = i + 1;
        }
        return [.. parts];
    }
}

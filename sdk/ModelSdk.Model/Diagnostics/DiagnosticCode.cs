namespace ModelSdk.Diagnostics;

/// <summary>A stable diagnostic: an id that never changes meaning, a title, and the fix to suggest.</summary>
public sealed record DiagnosticCode(string Id, string Title, string Fix)
{
    public string HelpLink => $"docs/diagnostics/{Id}.md";

    public override string ToString() => Id;
}

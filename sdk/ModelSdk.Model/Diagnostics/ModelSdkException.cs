namespace ModelSdk.Diagnostics;

/// <summary>
/// The one exception type ModelSdk throws for bad input: it carries a stable <c>MSDK####</c> code,
/// the file at fault (when there is one) and what the user should do about it.
/// </summary>
public sealed class ModelSdkException : Exception
{
    public ModelSdkException(DiagnosticCode code, string message, string? filePath = null, Exception? inner = null)
        : base(Format(code, message, filePath), inner)
    {
        Code = code;
        Detail = message;
        FilePath = filePath;
    }

    public DiagnosticCode Code { get; }

    /// <summary>The message without the code, file and fix decorations.</summary>
    public string Detail { get; }

    public string? FilePath { get; }

    public string Fix => Code.Fix;

    private static string Format(DiagnosticCode code, string message, string? filePath)
        => filePath is null
            ? $"{code.Id}: {message} {code.Fix}"
            : $"{code.Id}: {message} ({filePath}) {code.Fix}";
}

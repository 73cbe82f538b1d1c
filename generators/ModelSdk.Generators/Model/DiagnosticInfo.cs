using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace ModelSdk.Generators.Model
{
    /// <summary>
    /// A diagnostic as plain equatable data: <see cref="Diagnostic"/> and <see cref="Location"/> are not
    /// value-equatable, so keeping them in the pipeline would defeat caching.
    /// </summary>
    internal sealed record DiagnosticInfo(
        DiagnosticDescriptor Descriptor,
        string FilePath,
        TextSpan Span,
        LinePositionSpan LineSpan,
        EquatableArray<string> MessageArgs)
    {
        public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, string filePath, TextSpan span, LinePositionSpan lineSpan, params string[] messageArgs) =>
            new DiagnosticInfo(descriptor, filePath, span, lineSpan, new EquatableArray<string>(messageArgs));

        public Diagnostic ToDiagnostic()
        {
            var args = new object[MessageArgs.Count];
            for (int i = 0; i < args.Length; i++) args[i] = MessageArgs[i];
            return Diagnostic.Create(Descriptor, Location.Create(FilePath, Span, LineSpan), args);
        }
    }
}

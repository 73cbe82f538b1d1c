using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace ModelSdk.Generators.Tests.Infrastructure;

/// <summary>An AdditionalFiles item held in memory, as the build would pass obj/…/name.msdk.json.</summary>
internal sealed class InMemoryAdditionalText(string path, string text) : AdditionalText
{
    private readonly SourceText _text = SourceText.From(text);

    public override string Path { get; } = path;

    public override SourceText GetText(CancellationToken cancellationToken = default) => _text;
}

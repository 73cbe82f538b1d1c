using System.Xml.Linq;
using ModelSdk.Distillation.Tests.Support;

namespace ModelSdk.Distillation.Tests.Loader;

/// <summary>Only projects that distill restore LibTorch: the SDK, its build task and the runtime never reference it.</summary>
public sealed class DependencyBoundaryTests
{
    [Theory]
    [InlineData("sdk/ModelSdk.Sdk/ModelSdk.Sdk.csproj")]
    [InlineData("sdk/ModelSdk.Build/ModelSdk.Build.csproj")]
    [InlineData("sdk/ModelSdk.Compression/ModelSdk.Compression.csproj")]
    [InlineData("sdk/ModelSdk.Runtime/ModelSdk.Runtime.csproj")]
    public void Project_and_its_references_do_not_reference_TorchSharp(string project)
    {
        foreach (var file in Closure(Path.Combine(Models.RepoRoot, project)))
        {
            var document = XDocument.Load(file);
            Assert.DoesNotContain(document.Descendants("PackageReference"), p => IsTorch((string?)p.Attribute("Include")));
            Assert.DoesNotContain(document.Descendants("ProjectReference"), p => ((string?)p.Attribute("Include") ?? "").Contains("ModelSdk.Distillation", StringComparison.Ordinal));
        }
    }

    private static bool IsTorch(string? package)
        => package is not null && (package.StartsWith("TorchSharp", StringComparison.OrdinalIgnoreCase) || package.StartsWith("libtorch", StringComparison.OrdinalIgnoreCase));

    /// <summary>The project file and every project it references, directly or not.</summary>
    private static IEnumerable<string> Closure(string project)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([Path.GetFullPath(project)]);
        while (pending.TryPop(out var file))
        {
            if (!seen.Add(file)) continue;
            foreach (var reference in XDocument.Load(file).Descendants("ProjectReference"))
                pending.Push(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, ((string)reference.Attribute("Include")!).Replace('\\', '/'))));
        }
        return seen;
    }
}

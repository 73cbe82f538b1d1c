using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Diagnostics;
using ModelSdk.Analyzers;
using ModelSdk.Analyzers.CodeFixes;

namespace ModelSdk.Generators.Tests;

/// <summary>
/// The compile-time half of the diagnostic table (the generator's and the analyzers' descriptors; the build and runtime
/// codes are checked by ModelSdk.Tests' DiagnosticCatalogTests): each descriptor has a title, a message and a help link
/// to its page, whose heading repeats the title; each is reported by a shipped analyzer and exercised by a test here;
/// each code fix fixes a descriptor that exists. AnalyzerReleases.*.md against the descriptors is checked by the build (RS2000-RS2008).
/// </summary>
public sealed partial class DescriptorTableTests
{
    private static readonly string RepoRoot = FindRepoRoot();

    private static readonly Assembly Analyzers = typeof(ModelLoadInLoopAnalyzer).Assembly;

    [GeneratedRegex(@"^MSDK\d{4}$")]
    private static partial Regex IdPattern();

    /// <summary>Every descriptor field of both DiagnosticDescriptors tables.</summary>
    private static IReadOnlyList<DiagnosticDescriptor> Descriptors() =>
        new[] { typeof(ModelClassGenerator).Assembly, Analyzers }
            .Select(a => a.GetTypes().Single(t => t.Name == "DiagnosticDescriptors"))
            .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.Static))
            .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
            .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
            .ToArray();

    private static IEnumerable<DiagnosticAnalyzer> AnalyzerInstances() =>
        Analyzers.GetTypes().Where(t => !t.IsAbstract && typeof(DiagnosticAnalyzer).IsAssignableFrom(t))
            .Select(t => (DiagnosticAnalyzer)Activator.CreateInstance(t)!);

    [Fact]
    public void EveryDescriptor_HasAnIdATitleAMessageAndAHelpPageTitledLikeIt()
    {
        var descriptors = Descriptors();
        Assert.True(descriptors.Count >= 8, $"only {descriptors.Count} descriptors found");
        Assert.Equal(descriptors.Count, descriptors.Select(d => d.Id).Distinct().Count());
        foreach (var d in descriptors)
        {
            Assert.Matches(IdPattern(), d.Id);
            Assert.False(string.IsNullOrWhiteSpace(d.Title.ToString()), $"{d.Id} has no title");
            Assert.False(string.IsNullOrWhiteSpace(d.MessageFormat.ToString()), $"{d.Id} has no message");
            Assert.False(string.IsNullOrWhiteSpace(d.Description.ToString()), $"{d.Id} has no description");
            Assert.Equal($"docs/diagnostics/{d.Id}.md", d.HelpLinkUri);
            var page = Path.Combine(RepoRoot, d.HelpLinkUri);
            Assert.True(File.Exists(page), $"{d.Id} has no page {page}");
            Assert.Equal($"# {d.Id}: {d.Title}", File.ReadLines(page).First());
        }
    }

    [Fact]
    public void EveryAnalyzerDescriptor_IsReportedByAnAnalyzer_AndTested()
    {
        var supported = AnalyzerInstances().SelectMany(a => a.SupportedDiagnostics).Select(d => d.Id).ToHashSet();
        var tests = Directory.GetFiles(Path.Combine(RepoRoot, "tests", "ModelSdk.Generators.Tests"), "*Tests.cs")
            .Where(f => Path.GetFileName(f) != $"{nameof(DescriptorTableTests)}.cs")
            .Select(File.ReadAllText)
            .ToArray();
        foreach (var d in Descriptors())
        {
            if (d.Id.StartsWith("MSDK21", StringComparison.Ordinal)) Assert.Contains(d.Id, supported);
            Assert.True(tests.Any(t => t.Contains($"\"{d.Id}\"", StringComparison.Ordinal)), $"no test in ModelSdk.Generators.Tests checks {d.Id}");
        }
    }

    [Fact]
    public void EveryCodeFix_FixesAnExistingDescriptor_AndIsTested()
    {
        var ids = Descriptors().Select(d => d.Id).ToHashSet();
        var fixes = typeof(AddUsingCodeFixProvider).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && typeof(CodeFixProvider).IsAssignableFrom(t)).ToArray();
        Assert.NotEmpty(fixes);
        // CodeFixTests.cs and the files of fixes with tests of their own (UseAwaitCodeFixTests.cs).
        var tests = string.Concat(Directory.GetFiles(Path.Combine(RepoRoot, "tests", "ModelSdk.Generators.Tests"), "*CodeFixTests.cs").Select(File.ReadAllText));
        foreach (var type in fixes)
        {
            var fix = (CodeFixProvider)Activator.CreateInstance(type)!;
            Assert.All(fix.FixableDiagnosticIds, id => Assert.Contains(id, ids));
            Assert.Contains($"new {type.Name}()", tests);
            var page = File.ReadAllText(Path.Combine(RepoRoot, "docs", "diagnostics", $"{fix.FixableDiagnosticIds.Single()}.md"));
            Assert.Contains("**Code fix:**", page);
        }
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ModelSdk.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"No ModelSdk.sln above {AppContext.BaseDirectory}.");
    }
}

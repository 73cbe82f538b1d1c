using System.Reflection;
using System.Text.RegularExpressions;
using ModelSdk.Diagnostics;

namespace ModelSdk.Tests.Diagnostics;

/// <summary>
/// The diagnostic catalog is complete and consistent: every code in <see cref="DiagnosticCodes"/>, the generator's and the
/// analyzers' descriptor files has a unique well-formed id and a page under docs/diagnostics/ listed in its README.
/// </summary>
public sealed partial class DiagnosticCatalogTests
{
    private static readonly string RepoRoot = FindRepoRoot();

    private static string DocsFolder => Path.Combine(RepoRoot, "docs", "diagnostics");

    private static string GeneratorDescriptors => Path.Combine(RepoRoot, "generators", "ModelSdk.Generators", "DiagnosticDescriptors.cs");

    private static string AnalyzerDescriptors => Path.Combine(RepoRoot, "analyzers", "ModelSdk.Analyzers", "DiagnosticDescriptors.cs");

    [GeneratedRegex(@"^MSDK\d{4}$")]
    private static partial Regex IdPattern();

    /// <summary>An id as a C# string literal, e.g. <c>id: "MSDK1501"</c>; help links ("MSDK1501.md") do not match.</summary>
    [GeneratedRegex("\"(MSDK\\d{4})\"")]
    private static partial Regex QuotedId();

    [GeneratedRegex(@"\[(MSDK\d{4})\]\((MSDK\d{4})\.md\)")]
    private static partial Regex ReadmeLink();

    public static TheoryData<string> CodeIds => [.. DiagnosticCodes.All.Select(c => c.Id)];

    public static TheoryData<string> DescriptorIds => [.. IdsIn(GeneratorDescriptors).Concat(IdsIn(AnalyzerDescriptors)).Distinct()];

    [Fact]
    public void EveryCode_HasAUniqueWellFormedId_ATitleAndAFix()
    {
        Assert.NotEmpty(DiagnosticCodes.All);
        foreach (var code in DiagnosticCodes.All)
        {
            Assert.NotNull(code);
            Assert.Matches(IdPattern(), code.Id);
            Assert.False(string.IsNullOrWhiteSpace(code.Title), $"{code.Id} has no title");
            Assert.False(string.IsNullOrWhiteSpace(code.Fix), $"{code.Id} has no fix");
            Assert.Equal($"docs/diagnostics/{code.Id}.md", code.HelpLink);
        }
        var repeated = DiagnosticCodes.All.GroupBy(c => c.Id).Where(g => g.Count() > 1).Select(g => g.Key).ToArray();
        Assert.True(repeated.Length == 0, $"Repeated ids: {string.Join(", ", repeated)}");
    }

    [Fact]
    public void EveryPublicCodeField_IsInAll_AndAllHoldsNothingElse()
    {
        var fields = typeof(DiagnosticCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.FieldType == typeof(DiagnosticCode))
            .ToArray();
        Assert.NotEmpty(fields);
        foreach (var field in fields)
        {
            Assert.True(field.IsInitOnly, $"DiagnosticCodes.{field.Name} is not readonly");
            var code = (DiagnosticCode)field.GetValue(null)!;
            Assert.True(DiagnosticCodes.All.Contains(code), $"DiagnosticCodes.{field.Name} ({code.Id}) is missing from DiagnosticCodes.All");
        }
        Assert.Equal(fields.Length, DiagnosticCodes.All.Count);
    }

    [Theory]
    [MemberData(nameof(CodeIds))]
    public void Code_HasADocsPageTitledLikeIt(string id)
    {
        var code = DiagnosticCodes.All.Single(c => c.Id == id);
        var page = Path.Combine(RepoRoot, code.HelpLink);
        Assert.True(File.Exists(page), $"{id} has no page: {page}");
        var lines = File.ReadAllLines(page);
        Assert.Equal($"# {id}: {code.Title}", lines[0]);
        AssertHasSections(page, lines);
    }

    [Theory]
    [MemberData(nameof(DescriptorIds))]
    public void DescriptorId_HasADocsPageAndAHelpLink(string id)
    {
        var page = Path.Combine(DocsFolder, $"{id}.md");
        Assert.True(File.Exists(page), $"{id} has no page: {page}");
        var lines = File.ReadAllLines(page);
        Assert.StartsWith($"# {id}: ", lines[0]);
        AssertHasSections(page, lines);
        var source = File.ReadAllText(IdsIn(GeneratorDescriptors).Contains(id) ? GeneratorDescriptors : AnalyzerDescriptors);
        Assert.Contains($"\"{id}.md\"", source);
    }

    [Fact]
    public void DescriptorIds_AreInTheirRanges_AndCollideWithNothing()
    {
        var generator = IdsIn(GeneratorDescriptors);
        var analyzers = IdsIn(AnalyzerDescriptors);
        Assert.NotEmpty(generator);
        Assert.NotEmpty(analyzers);
        Assert.All(generator, id => Assert.StartsWith("MSDK15", id));
        Assert.All(analyzers, id => Assert.StartsWith("MSDK21", id));

        var all = DiagnosticCodes.All.Select(c => c.Id).Concat(generator).Concat(analyzers).ToArray();
        var repeated = all.GroupBy(id => id).Where(g => g.Count() > 1).Select(g => g.Key).ToArray();
        Assert.True(repeated.Length == 0, $"Ids defined twice (in DiagnosticCodes, the generator or the analyzers): {string.Join(", ", repeated)}");
    }

    [Fact]
    public void Readme_ListsEveryCode_AndEveryPageIsACode()
    {
        var known = DiagnosticCodes.All.Select(c => c.Id).Concat(IdsIn(GeneratorDescriptors)).Concat(IdsIn(AnalyzerDescriptors)).ToHashSet();
        var readme = File.ReadAllText(Path.Combine(DocsFolder, "README.md"));
        var links = ReadmeLink().Matches(readme).ToArray();
        Assert.All(links, link => Assert.Equal(link.Groups[1].Value, link.Groups[2].Value));
        var listed = links.Select(l => l.Groups[1].Value).ToArray();
        Assert.Empty(known.Except(listed).Order());
        Assert.Empty(listed.Except(known).Order());
        Assert.Equal(listed.Length, listed.Distinct().Count());

        var pages = Directory.GetFiles(DocsFolder, "MSDK*.md").Select(Path.GetFileNameWithoutExtension).ToArray();
        Assert.Empty(pages.Except(known).Order());
    }

    /// <summary>
    /// Codes raised only inside the build task (reported through MSBuild), which the scenario tests in
    /// ModelSdk.IntegrationTests do not provoke yet; MSDK1050 is a warning of the TorchSharp loader patch task, whose
    /// refusal ModelSdk.Distillation.Tests checks on the task's ELF logic. Each one leaves this list when a test checks it.
    /// </summary>
    private static readonly string[] NotYetTested = ["MSDK1009", "MSDK1010", "MSDK1099", "MSDK1050"];

    /// <summary>Every build and runtime code is checked by some test (by id or by its DiagnosticCodes field), beyond this catalog.</summary>
    [Fact]
    public void EveryCode_IsCheckedByATest()
    {
        var tests = Directory.GetFiles(Path.Combine(RepoRoot, "tests"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && Path.GetFileName(f) != $"{nameof(DiagnosticCatalogTests)}.cs")
            .Select(File.ReadAllText)
            .ToArray();
        var fields = typeof(DiagnosticCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.FieldType == typeof(DiagnosticCode))
            .ToDictionary(f => ((DiagnosticCode)f.GetValue(null)!).Id, f => f.Name);
        var untested = DiagnosticCodes.All
            .Where(code => !tests.Any(t => t.Contains($"\"{code.Id}\"", StringComparison.Ordinal) || t.Contains($"DiagnosticCodes.{fields[code.Id]}", StringComparison.Ordinal)))
            .Select(code => code.Id)
            .ToArray();
        Assert.Equal(NotYetTested, untested);
    }

    /// <summary>Every page says when the diagnostic happens, shows it, and says what to do (the style of the first pages).</summary>
    private static void AssertHasSections(string page, string[] lines)
    {
        Assert.True(lines.Length > 2 && lines[2].StartsWith("**Severity:**", StringComparison.Ordinal), $"{page}: no severity line");
        foreach (var section in new[] { "## Cause", "## Example", "## Fix" })
            Assert.True(lines.Contains(section), $"{page}: no '{section}' section");
    }

    /// <summary>The ids a descriptor file defines, as often as it defines them (so a repeated id is seen).</summary>
    private static string[] IdsIn(string descriptorFile)
        => QuotedId().Matches(File.ReadAllText(descriptorFile)).Select(m => m.Groups[1].Value).ToArray();

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ModelSdk.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"No ModelSdk.sln above {AppContext.BaseDirectory}: run the tests from inside the repository.");
    }
}

using System.Globalization;
using System.Text.Json.Nodes;
using ModelSdk.IntegrationTests.Infrastructure;
using Xunit;

namespace ModelSdk.IntegrationTests;

/// <summary>
/// Build-time distillation against the packed SDK and ModelSdk.Distillation package: a Model item with Distill trains
/// during dotnet build (progress in the build output), the manifest records the run, the app runs the result without
/// carrying TorchSharp; a project without the package gets MSDK1060 with the line to add, and one that never distills
/// restores no TorchSharp at all.
/// </summary>
[Collection(PackedSdkCollection.Name)]
public sealed class DistillationBuildTests(PackedSdk sdk)
{
    private const string PackageReference = """<PackageReference Include="ModelSdk.Distillation" Version="$(ModelSdkTestVersion)" />""";

    private Scenario Distilled()
    {
        var scenario = sdk.CreateScenario("Distilled");
        scenario.UseMachinePackagesAsFallback();
        return scenario;
    }

    [Fact]
    public void Distill_trains_during_the_build_records_the_run_and_the_app_generates_without_TorchSharp()
    {
        var scenario = Distilled();
        var build = scenario.Build();
        Assert.True(build.ExitCode == 0, build.ToString());
        Assert.Matches(@"ModelSdk: Stories15M: distill: step 2/2, loss [0-9.]+, \d+ tokens/s", build.Output);

        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(scenario.IntermediateModels, "Stories15M.msdk.json")))!;
        var passes = manifest["provenance"]!["passes"]!.AsArray();
        Assert.Equal(["rtn-int4", "distill"], passes.Select(p => (string)p!["name"]!));
        var distill = passes[1]!;
        Assert.Equal("2", (string)distill["options"]!["Steps"]!);
        Assert.Equal("32", (string)distill["options"]!["SequenceLength"]!);
        var results = distill["results"]!;
        Assert.Matches("^[0-9a-f]{32}$", (string)results["teacher"]!);
        Assert.Matches("^[0-9a-f]{32}$", (string)results["data"]!);
        Assert.Equal("2", (string)results["steps"]!);
        Assert.InRange(double.Parse((string)results["finalLoss"]!, CultureInfo.InvariantCulture), 1e-6, 10);
        Assert.Equal("q4_g32_sym", (string)manifest["weightFormat"]!);

        // TorchSharp ran in the build only: the app's output holds none of it.
        var output = scenario.PathOf("bin", "Release", "net10.0");
        Assert.Empty(Directory.GetFiles(output, "*orch*", SearchOption.AllDirectories));
        var run = scenario.RunApp();
        Assert.True(run.ExitCode == 0, run.ToString());
        var lines = run.StdOut.Split('\n');
        Assert.True(lines[0].Trim().Split(' ').Length > 20, run.ToString());
        Assert.Equal("q4_g32_sym", lines[1].Trim());

        var again = scenario.Build();
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.DoesNotContain("ModelSdk: compiling", again.Output);
    }

    [Fact]
    public void Distill_without_the_package_is_MSDK1060_with_the_PackageReference_to_add()
    {
        var scenario = Distilled();
        scenario.EditProject(PackageReference, "<!-- no distillation package -->");
        var build = scenario.Build();
        Assert.NotEqual(0, build.ExitCode);
        Assert.Matches(@"App\.csproj\(9,\d+\): ModelSdk error MSDK1060: .+", build.Output);
        Assert.Contains($"""<PackageReference Include="ModelSdk.Distillation" Version="{sdk.Version}" />""", build.Output);
        Assert.DoesNotContain("   at ", build.StdOut);
    }

    [Fact]
    public void Unknown_Distill_option_is_MSDK1012_listing_the_valid_ones()
    {
        var scenario = Distilled();
        scenario.EditProject("DistillSteps=\"2\"", "DistillStep=\"2\"");
        var build = scenario.Build();
        Assert.NotEqual(0, build.ExitCode);
        Assert.Matches(@"App\.csproj\(9,\d+\): ModelSdk error MSDK1012: DistillStep is not a distillation option\. Valid: DistillSteps, DistillLearningRate, .+", build.Output);
    }

    [Fact]
    public void A_project_that_never_distills_restores_no_TorchSharp()
    {
        var scenario = sdk.CreateScenario("Basic");
        var restore = DotNet.Run(scenario.Directory, sdk.BuildEnvironment, "restore");
        Assert.True(restore.ExitCode == 0, restore.ToString());
        var assets = File.ReadAllText(scenario.PathOf("obj", "project.assets.json"));
        Assert.Contains("ModelSdk.Runtime", assets);
        Assert.DoesNotContain("torchsharp", assets, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("libtorch", assets, StringComparison.OrdinalIgnoreCase);
    }
}

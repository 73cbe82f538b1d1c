using ModelSdk.Artifacts;
using ModelSdk.Tests.Build;
using ModelSdk.Tests.Import;

namespace ModelSdk.Tests.Structural;

/// <summary>DropLayers and LowRank* as Model item metadata in the build task: the artifact and the generator's manifest say the smaller shape.</summary>
public sealed class StructuralBuildTests
{
    [Fact]
    public void A_Model_item_with_DropLayers_and_LowRankRatio_builds_a_five_block_artifact_and_manifest()
    {
        var root = CheckpointFiles.TempFolder();
        var project = new TaskProject(root, "App", Path.Combine(root, "cache"));
        var (ok, log) = project.Compile(project.Model("Shallow",
            ("DropLayers", "layers.5"), ("LowRankRatio", "0.5"), ("LowRankLayers", "layers.0.feed_forward.w2")));
        Assert.True(ok, log.Log);

        using var artifact = ModelArtifact.Open(Path.Combine(project.Intermediate, "Shallow.msdk"));
        Assert.Equal(5, artifact.Manifest.Config.Layers);
        Assert.Equal(["drop-layers", "low-rank"], artifact.Manifest.Provenance.Passes.Select(p => p.Name));
        Assert.False(artifact.Contains("layers.5.attention.wq"));
        // The manifest the source generator reads (its Layers constant) says five blocks too.
        var manifest = ManifestJson.Deserialize(File.ReadAllBytes(Path.Combine(project.Intermediate, "Shallow.msdk.json")));
        Assert.Equal(5, manifest!.Config.Layers);
    }

    [Fact]
    public void DropLayers_naming_a_block_the_model_lacks_fails_the_build_with_MSDK1052()
    {
        var root = CheckpointFiles.TempFolder();
        var project = new TaskProject(root, "App", Path.Combine(root, "cache"));
        var (ok, log) = project.Compile(project.Model("Shallow", ("DropLayers", "layers.9")));
        Assert.False(ok);
        Assert.Equal("MSDK1052", Assert.Single(log.Errors).Code);
    }
}

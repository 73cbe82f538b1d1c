using Microsoft.Build.Utilities;
using ModelSdk.Tests.Import;

namespace ModelSdk.Tests.Build;

/// <summary>
/// Distill metadata on a Model item, in the build task without the ModelSdk.Distillation package (this test project never
/// restores TorchSharp): the missing package, a stray or bad Distill value and a plug-in that is not there are errors
/// before any work, and a referenced plug-in is never loaded for items that do not distill.
/// (Distilling through the package is the integration scenario Distilled.)
/// </summary>
public sealed class DistillMetadataBuildTests
{
    private static TaskProject NewProject() { var root = CheckpointFiles.TempFolder(); return new TaskProject(root, "App", Path.Combine(root, "cache")); }

    [Fact]
    public void Distill_without_the_package_is_MSDK1060_naming_the_PackageReference_to_add()
    {
        var project = NewProject();
        var (ok, log) = project.Compile(project.Model("Stories", ("Quantize", "rtn-int4"), ("CalibrationData", "models/tokenizer.model"), ("Distill", "true")));
        Assert.False(ok);
        var error = Assert.Single(log.Errors);
        Assert.Equal("MSDK1060", error.Code);
        Assert.Contains("<PackageReference Include=\"ModelSdk.Distillation\" Version=\"1.0.0-test\" />", error.Message);
        Assert.False(Directory.Exists(project.Intermediate) && Directory.EnumerateFiles(project.Intermediate, "*.msdk").Any());
    }

    [Theory]
    [InlineData("Distill", "maybe", "Distill=\"maybe\" is not valid: use true, false")]
    [InlineData("DistillSteps", "2", "DistillSteps is set but Distill is not")]
    public void Bad_or_stray_Distill_metadata_is_MSDK1012(string name, string value, string message)
    {
        var project = NewProject();
        var (ok, log) = project.Compile(project.Model("Stories", (name, value)));
        Assert.False(ok);
        var error = Assert.Single(log.Errors);
        Assert.Equal("MSDK1012", error.Code);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void A_plugin_that_is_not_there_is_MSDK1061_when_used_and_never_loaded_otherwise()
    {
        var project = NewProject();
        var plugin = new TaskItem(Path.Combine(project.Directory, "missing", "ModelSdk.Distillation.dll"));

        var engine = new RecordingBuildEngine();
        var task = project.Task(engine, project.Model("Stories", ("Quantize", "rtn-int4"), ("CalibrationData", "models/tokenizer.model"), ("Distill", "true")));
        task.PassPlugins = [plugin];
        Assert.False(task.Execute());
        Assert.Equal("MSDK1061", Assert.Single(engine.Errors).Code);

        engine = new RecordingBuildEngine();
        task = project.Task(engine, project.Model("Plain", ("Quantize", "rtn-int4")));
        task.PassPlugins = [plugin];
        Assert.True(task.Execute(), engine.Log);
        Assert.True(File.Exists(Path.Combine(project.Intermediate, "Plain.msdk")));
    }

    [Fact]
    public void A_plugin_of_another_ModelSdk_version_is_MSDK1061()
    {
        var project = NewProject();
        var plugin = new TaskItem(typeof(DistillMetadataBuildTests).Assembly.Location); // exists; never loaded: the version check comes first
        plugin.SetMetadata("SdkVersion", "0.0.1");
        var engine = new RecordingBuildEngine();
        var task = project.Task(engine, project.Model("Stories", ("Quantize", "rtn-int4"), ("CalibrationData", "models/tokenizer.model"), ("Distill", "true")));
        task.PassPlugins = [plugin];
        Assert.False(task.Execute());
        var error = Assert.Single(engine.Errors);
        Assert.Equal("MSDK1061", error.Code);
        Assert.Contains("is version 0.0.1, and ModelSdk.Sdk is 1.0.0-test", error.Message);
    }
}

using System.Globalization;
using System.Text;
using ModelSdk.Artifacts;
using ModelSdk.Compression.Passes;
using ModelSdk.Compression.Pipeline;
using ModelSdk.Tests.Runtime.Support;

namespace ModelSdk.Tests.Artifacts;

/// <summary>
/// The same inputs give a byte-identical artifact wherever and whenever they are compiled: inputs copied to two different
/// folders, outputs written to two others, the second compile under another culture (decimal comma, Turkish casing) —
/// so the artifact holds no timestamp, machine path, user or host name, nor culture-formatted number.
/// </summary>
public sealed class DeterminismTests
{
    [Theory]
    [InlineData("none")]
    [InlineData("rtn-int4")]
    public void SameInputs_InOtherFolders_AndCultures_GiveTheSameBytes(string quantize)
    {
        var first = Compile(quantize, CultureInfo.InvariantCulture, out var firstFolder);
        var second = Compile(quantize, CultureInfo.GetCultureInfo("tr-TR"), out var secondFolder);
        try
        {
            Assert.True(first.AsSpan().SequenceEqual(second), "the two compiles differ");
            // The manifest is the only text in the file (the rest is the header and tensor data, where any short string may occur by chance).
            var header = ArtifactFormat.Header.TryRead(first, out _)!.Value;
            var text = Encoding.UTF8.GetString(first.AsSpan((int)header.ManifestOffset, (int)header.ManifestLength));
            Assert.Contains("\"stories15M\"", text);
            foreach (var machineSpecific in new[] { firstFolder, secondFolder, Path.GetTempPath().TrimEnd('/', '\\'), Environment.MachineName, Environment.UserName, TestModels.RepoRoot })
                Assert.DoesNotContain(machineSpecific, text);
        }
        finally
        {
            Directory.Delete(firstFolder, recursive: true);
            Directory.Delete(secondFolder, recursive: true);
        }
    }

    private static byte[] Compile(string quantize, CultureInfo culture, out string folder)
    {
        folder = Directory.CreateTempSubdirectory("modelsdk-determinism-").FullName;
        var inputs = Directory.CreateDirectory(Path.Combine(folder, "inputs")).FullName;
        var checkpoint = Path.Combine(inputs, "stories15M.bin");
        var tokenizer = Path.Combine(inputs, "tokenizer.model");
        File.Copy(Path.Combine(TestModels.SharedModels, "stories15M.bin"), checkpoint);
        File.Copy(Path.Combine(TestModels.SharedModels, "tokenizer.model"), tokenizer);
        var output = Path.Combine(Directory.CreateDirectory(Path.Combine(folder, "obj")).FullName, "stories15M.msdk");

        var saved = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = culture;
        try
        {
            var passes = PassRegistry.Create(quantize, new PassOptions(quantize == "none" ? [] : [new("GroupSize", "64"), new("Symmetric", "false")]));
            var plan = ModelCompiler.Plan(new CompileRequest(checkpoint, tokenizer, "0.1.0") { Passes = passes });
            ModelCompiler.Compile(plan, output);
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
        return File.ReadAllBytes(output);
    }
}

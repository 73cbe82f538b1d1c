using TorchSharp;

namespace ModelSdk.Distillation.Tests.Loader;

/// <summary>The build's loader fix: TorchSharp loads from this project's build output, and the patch is exact and idempotent.</summary>
public sealed class TorchSharpLoadTests
{
    private const string Version = "GLIBCXX_3.4.32";

    private static string NativeLibrary => Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    [Fact]
    public void TorchSharp_loads_from_the_build_output_and_computes()
    {
        torch.set_num_threads(1);
        using var a = torch.tensor(new float[] { 1, 2, 3, 4 }, [2, 2]);
        using var b = a.matmul(a);
        Assert.Equal(new float[] { 7, 10, 15, 22 }, b.data<float>().ToArray());
    }

    [Fact]
    public void Output_copy_has_the_requirement_marked_weak()
    {
        if (!OperatingSystem.IsLinux()) return; // the requirement exists only in the Linux library
        var bytes = File.ReadAllBytes(NativeLibrary);
        var flags = ElfWeakVersion.FindVernauxFlags(bytes, Version, out _, out var relocated);
        Assert.True(flags > 0, $"{Version} is not required by the library any more: the loader fix can be removed.");
        Assert.Null(relocated);
        Assert.Equal(2, bytes[flags] & 2);
    }

    [Fact]
    public void Patch_changes_one_flag_and_is_idempotent()
    {
        if (!OperatingSystem.IsLinux()) return;
        var directory = Directory.CreateTempSubdirectory("modelsdk-elf-");
        try
        {
            var patched = File.ReadAllBytes(NativeLibrary);
            var flags = ElfWeakVersion.FindVernauxFlags(patched, Version, out _, out _);
            var original = (byte[])patched.Clone();
            original[flags] &= unchecked((byte)~2); // the library as the package ships it
            var path = Path.Combine(directory.FullName, "libLibTorchSharp.so");
            File.WriteAllBytes(path, original);
            var stamp = new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc);
            File.SetLastWriteTimeUtc(path, stamp);

            Assert.Equal(ElfWeakVersion.Outcome.Patched, ElfWeakVersion.Patch(path, Version, out _));
            var once = File.ReadAllBytes(path);
            Assert.Equal(patched, once);
            Assert.Single(Enumerable.Range(0, once.Length), i => once[i] != original[i]);
            Assert.Equal(stamp, File.GetLastWriteTimeUtc(path));

            Assert.Equal(ElfWeakVersion.Outcome.AlreadyWeak, ElfWeakVersion.Patch(path, Version, out _));
            Assert.Equal(once, File.ReadAllBytes(path));
            Assert.Single(directory.GetFiles()); // no temporary file left behind
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void Patch_refuses_when_a_relocation_uses_the_version()
    {
        if (!OperatingSystem.IsLinux()) return;
        var directory = Directory.CreateTempSubdirectory("modelsdk-elf-");
        try
        {
            var bytes = File.ReadAllBytes(NativeLibrary);
            var flags = ElfWeakVersion.FindVernauxFlags(bytes, Version, out var index, out _);
            bytes[flags] &= unchecked((byte)~2);
            // Tag the symbol of the first dynamic relocation with that version: the library now really uses it.
            ElfTestEdits.TagFirstRelocatedSymbol(bytes, index);
            var path = Path.Combine(directory.FullName, "libLibTorchSharp.so");
            File.WriteAllBytes(path, bytes);

            Assert.Equal(ElfWeakVersion.Outcome.Used, ElfWeakVersion.Patch(path, Version, out var symbol));
            Assert.False(string.IsNullOrEmpty(symbol));
            Assert.Equal(bytes, File.ReadAllBytes(path));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}

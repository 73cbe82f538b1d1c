using System.Reflection;

namespace ModelSdk.Generators.Tests.Infrastructure;

/// <summary>
/// Compares text with a file under Golden/. Set MODELSDK_UPDATE_GOLDEN=1 to rewrite the files instead,
/// then review the diff. The generator's version is replaced by a placeholder so a version bump is not a diff.
/// </summary>
internal static class Golden
{
    public const string VersionPlaceholder = "$(GeneratorVersion)";

    private static readonly string Directory = typeof(Golden).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "GoldenDirectory").Value!;

    public static void AssertMatches(string fileName, string actual)
    {
        string normalized = actual.Replace($"\"{GeneratorInfo.Version}\"", $"\"{VersionPlaceholder}\"", StringComparison.Ordinal);
        string path = Path.Combine(Directory, fileName);
        if (Environment.GetEnvironmentVariable("MODELSDK_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(path, normalized);
            return;
        }

        Assert.True(File.Exists(path), $"Golden file {path} is missing; run the tests with MODELSDK_UPDATE_GOLDEN=1 to create it.");
        // A checkout with CRLF line ends must still match the generator's '\n'.
        string expected = File.ReadAllText(path).Replace("\r\n", "\n", StringComparison.Ordinal);
        Assert.Equal(expected, normalized);
    }
}

using System.Buffers.Binary;
using ModelSdk.IntegrationTests.Infrastructure;
using Xunit;

namespace ModelSdk.IntegrationTests;

/// <summary>Every bad input is a build error with its stable code, the project file and line of the Model item, and the fix; nothing half-written stays in obj/.</summary>
[Collection(PackedSdkCollection.Name)]
public sealed class BadInputTests(PackedSdk sdk)
{
    public static TheoryData<string> Cases => ["truncated", "absurd-header", "missing-tokenizer", "corrupt-tokenizer", "unknown-metadata"];

    [Theory]
    [MemberData(nameof(Cases))]
    public void BadInput_IsABuildErrorWithCodeFileAndLine(string problem)
    {
        var scenario = sdk.CreateScenario("Basic");
        var code = problem switch
        {
            "truncated" => Truncate(scenario.OwnCopy("stories15M.bin")),
            "absurd-header" => AbsurdHeader(scenario.OwnCopy("stories15M.bin")),
            "missing-tokenizer" => Delete(scenario.PathOf("models", "tokenizer.model")),
            "corrupt-tokenizer" => Garbage(scenario.OwnCopy("tokenizer.model")),
            "unknown-metadata" => AddMetadata(scenario.PathOf("App.csproj")),
            _ => throw new ArgumentOutOfRangeException(nameof(problem)),
        };

        var build = scenario.Build();
        Assert.NotEqual(0, build.ExitCode);
        // MSBuild's canonical form: file(line,column): [subcategory] error CODE: message
        Assert.Matches($@"App\.csproj\(7,\d+\): ModelSdk error {code}: .+", build.Output);
        Assert.DoesNotContain("   at ", build.StdOut); // no stack trace
        if (Directory.Exists(scenario.IntermediateModels))
        {
            Assert.Empty(Directory.GetFiles(scenario.IntermediateModels, "*.tmp"));
            Assert.Empty(Directory.GetFiles(scenario.IntermediateModels, "*.msdk"));
        }
    }

    private static string Truncate(string path)
    {
        using var file = File.OpenWrite(path);
        file.SetLength(file.Length / 2);
        return "MSDK1003";
    }

    private static string AbsurdHeader(string path)
    {
        using var file = File.OpenWrite(path);
        var header = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(header, 1 << 30);
        file.Write(header); // dim = 2^30
        return "MSDK1002";
    }

    private static string Delete(string path)
    {
        File.Delete(path);
        return "MSDK1004";
    }

    private static string Garbage(string path)
    {
        File.WriteAllBytes(path, [0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02]);
        return "MSDK1005";
    }

    private static string AddMetadata(string project)
    {
        File.WriteAllText(project, File.ReadAllText(project).Replace("ClassName=\"Stories15M\"", "ClassName=\"Stories15M\" Quantise=\"int4\""));
        return "MSDK1006";
    }
}

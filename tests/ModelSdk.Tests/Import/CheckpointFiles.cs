using System.Buffers.Binary;

namespace ModelSdk.Tests.Import;

/// <summary>The real model files beside the repository, and damaged copies of them for the reader tests.</summary>
internal static class CheckpointFiles
{
    public static string Models { get; } = FindModels();

    public static string Checkpoint => Path.Combine(Models, "stories15M.bin");

    public static string Tokenizer => Path.Combine(Models, "tokenizer.model");

    public static string TempFolder() => Directory.CreateTempSubdirectory("modelsdk-test-").FullName;

    /// <summary>A copy of the checkpoint's header and its first <paramref name="length"/> bytes, with header fields replaced.</summary>
    public static string WithHeader(string folder, long length, params (int Field, int Value)[] fields)
    {
        var path = Path.Combine(folder, "model.bin");
        using (var source = File.OpenRead(Checkpoint))
        using (var target = File.Create(path))
        {
            var buffer = new byte[1 << 20];
            for (long left = length; left > 0;)
            {
                var read = source.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                if (read == 0) break;
                target.Write(buffer, 0, read);
                left -= read;
            }
            foreach (var (field, value) in fields)
            {
                var bytes = new byte[4];
                BinaryPrimitives.WriteInt32LittleEndian(bytes, value);
                target.Position = field * 4;
                target.Write(bytes);
            }
        }
        return path;
    }

    private static string FindModels()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, "ModelSdk.sln"))) continue;
            var shared = Path.Combine(dir.FullName, "..", "shared", "models");
            return Path.GetFullPath(Directory.Exists(shared) ? shared : Path.Combine(dir.FullName, "samples", "TinyStories", "models"));
        }
        throw new InvalidOperationException("Run the tests from inside the ModelSdk repository.");
    }
}

namespace ModelSdk.Artifacts;

/// <summary>The length of a file's contents. Unlike <c>FileInfo.Length</c>, it follows symbolic links.</summary>
public static class FileLength
{
    public static long Of(string path)
    {
        using var handle = File.OpenHandle(path);
        return RandomAccess.GetLength(handle);
    }
}

namespace ModelSdk.Build;

/// <summary>Writes small outputs so that a killed build leaves the old file or the new one, and unchanged content keeps its timestamp.</summary>
internal static class AtomicFile
{
    /// <summary>Writes <paramref name="bytes"/> unless the file already holds exactly them; returns whether it wrote.</summary>
    public static bool WriteIfDifferent(string path, byte[] bytes)
    {
        if (File.Exists(path) && File.ReadAllBytes(path).AsSpan().SequenceEqual(bytes)) return false;
        var temp = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
        return true;
    }
}

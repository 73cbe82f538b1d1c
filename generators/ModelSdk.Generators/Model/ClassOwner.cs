namespace ModelSdk.Generators.Model
{
    /// <summary>
    /// Which manifest emits a class when several ask for the same one: the first by ordinal path, so the
    /// choice does not depend on the order the build lists AdditionalFiles.
    /// </summary>
    internal sealed record ClassOwner(string HintName, string FilePath);
}

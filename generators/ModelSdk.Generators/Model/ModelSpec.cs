namespace ModelSdk.Generators.Model
{
    /// <summary>
    /// Everything the emitter needs to write one model class, as equatable values: no symbols, no
    /// compilation, no paths, so an unchanged manifest yields an equal spec and the output is cached.
    /// </summary>
    /// <param name="Namespace">Namespace of the class; empty for the global namespace.</param>
    /// <param name="SourceFiles">File names of the checkpoint inputs, for the class summary.</param>
    internal sealed record ModelSpec(
        string Namespace,
        string ClassName,
        string ModelName,
        string Architecture,
        string WeightFormat,
        string ArtifactFileName,
        int Dim,
        int HiddenDim,
        int Layers,
        int Heads,
        int KvHeads,
        int VocabSize,
        int ContextLength,
        int BosTokenId,
        int EosTokenId,
        EquatableArray<string> SourceFiles)
    {
        /// <summary>Quality measured by the build (the manifest's <c>metrics</c>), or null when the build measured none.</summary>
        public QualitySpec? Quality { get; init; }

        public int HeadSize => Dim / Heads;

        /// <summary>The class's name with its namespace, as C# writes it (no global:: prefix).</summary>
        public string FullName => Namespace.Length == 0 ? ClassName : Namespace + "." + ClassName;

        /// <summary>Unique per class: two manifests for the same class would collide here.</summary>
        public string HintName => FullName + ".g.cs";
    }
}

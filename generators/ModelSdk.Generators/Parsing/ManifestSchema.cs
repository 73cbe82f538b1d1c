namespace ModelSdk.Generators.Parsing
{
    /// <summary>
    /// The manifest contract shared with the build task (ModelSdk.Artifacts.ArtifactManifest writes it).
    /// Bump <see cref="Current"/> in both places when a change would make an old reader emit wrong code.
    /// </summary>
    internal static class ManifestSchema
    {
        public const string Current = "modelsdk.manifest/1";

        /// <summary>AdditionalFiles whose path ends with this (any case) are manifests.</summary>
        public const string FileSuffix = ".msdk.json";

        /// <summary>Defaults the build task's manifest record uses when it leaves a value out.</summary>
        public const string DefaultArchitecture = "llama";
        public const int DefaultBosId = 1;
        public const int DefaultEosId = 2;
    }
}

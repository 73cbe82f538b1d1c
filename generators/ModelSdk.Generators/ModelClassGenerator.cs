using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using ModelSdk.Generators.Emitting;
using ModelSdk.Generators.Model;
using ModelSdk.Generators.Parsing;

namespace ModelSdk.Generators
{
    /// <summary>
    /// Emits one typed class per ModelSdk manifest (<c>*.msdk.json</c> AdditionalFiles). It reads only the
    /// manifest, never the compilation or the weights, so editing code never re-runs it and the IDE stays fast.
    /// </summary>
    [Generator(LanguageNames.CSharp)]
    public sealed class ModelClassGenerator : IIncrementalGenerator
    {
        /// <summary>Step names for incremental-caching tests.</summary>
        public static class TrackingNames
        {
            /// <summary>AdditionalFiles that are manifests.</summary>
            public const string ManifestFiles = nameof(ManifestFiles);

            /// <summary>Parsed manifests: a spec or a diagnostic each.</summary>
            public const string ParsedManifests = nameof(ParsedManifests);

            /// <summary>The manifest chosen to emit each class that more than one manifest asks for.</summary>
            public const string DuplicateClassOwners = nameof(DuplicateClassOwners);
        }

        /// <inheritdoc/>
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            IncrementalValuesProvider<ManifestParseResult> manifests = context.AdditionalTextsProvider
                .Where(static file => ManifestParser.IsManifestPath(file.Path))
                .WithTrackingName(TrackingNames.ManifestFiles)
                .Select(static (file, ct) => ManifestParser.Parse(file.Path, file.GetText(ct), ct))
                .WithTrackingName(TrackingNames.ParsedManifests);

            // Equatable and almost always empty, so combining it with each manifest keeps per-manifest caching.
            IncrementalValueProvider<EquatableArray<ClassOwner>> owners = manifests
                .Select(static (result, _) => result.Spec is null ? null : new ClassOwner(result.Spec.HintName, result.FilePath))
                .Collect()
                .Select(static (all, _) => FindDuplicateOwners(all))
                .WithTrackingName(TrackingNames.DuplicateClassOwners);

            context.RegisterSourceOutput(manifests.Combine(owners), static (spc, pair) => Execute(spc, pair.Left, pair.Right));
        }

        private static EquatableArray<ClassOwner> FindDuplicateOwners(ImmutableArray<ClassOwner?> all)
        {
            ClassOwner[] owners = all
                .Where(static owner => owner is not null)
                .GroupBy(static owner => owner!.HintName, StringComparer.Ordinal)
                .Where(static group => group.Count() > 1)
                .Select(static group => group.OrderBy(static owner => owner!.FilePath, StringComparer.Ordinal).First()!)
                .OrderBy(static owner => owner.HintName, StringComparer.Ordinal)
                .ToArray();
            return new EquatableArray<ClassOwner>(owners);
        }

        private static void Execute(SourceProductionContext context, ManifestParseResult result, EquatableArray<ClassOwner> duplicateOwners)
        {
            if (result.Diagnostic is not null) context.ReportDiagnostic(result.Diagnostic.ToDiagnostic());
            if (result.Spec is not ModelSpec spec) return;

            foreach (ClassOwner owner in duplicateOwners)
            {
                if (owner.HintName == spec.HintName && owner.FilePath != result.FilePath)
                {
                    context.ReportDiagnostic(Diagnostic.Create(
                        DiagnosticDescriptors.DuplicateClass,
                        Location.Create(result.FilePath, default, default),
                        result.FilePath, spec.FullName));
                    return;
                }
            }

            string source = ModelClassEmitter.Emit(spec, GeneratorInfo.Version);
            context.AddSource(spec.HintName, SourceText.From(source, System.Text.Encoding.UTF8));
        }
    }
}

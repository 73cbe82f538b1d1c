using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using ModelSdk.Artifacts;
using ModelSdk.Compression.Pipeline;
using ModelSdk.Diagnostics;
using ModelSdk.Runtime.Evaluation;

namespace ModelSdk.Build;

/// <summary>
/// Compiles every <c>Model</c> item of a project into a <c>.msdk</c> artifact and the small <c>.msdk.json</c>
/// manifest the source generator reads. Work is skipped when the content-hash cache key of an item's inputs
/// equals the one recorded beside its artifact, so touching a file without changing it costs one hash.
/// Compiled artifacts live in a per-user <see cref="ModelCache"/> shared across projects; the project gets a copy in obj/.
/// In design-time builds (<see cref="ManifestOnly"/>) only a manifest made from the checkpoint header is written.
/// </summary>
public sealed class CompileModels : Microsoft.Build.Utilities.Task, ICancelableTask
{
    private readonly CancellationTokenSource _cancel = new();
    private readonly ConcurrentQueue<Action<TaskLoggingHelper>> _log = new();
    private PassPlugins _plugins = new([], "");

    [Required] public ITaskItem[] Models { get; set; } = [];

    [Required] public string ProjectDirectory { get; set; } = "";

    [Required] public string ProjectFile { get; set; } = "";

    [Required] public string SdkVersion { get; set; } = "";

    /// <summary>Namespace of generated classes when a Model item sets none (the project's RootNamespace).</summary>
    public string? DefaultNamespace { get; set; }

    /// <summary>The per-user cache of compiled artifacts shared by every project (relative to the project; empty: <see cref="ModelCache.DefaultDirectory"/>).</summary>
    public string? CacheDirectory { get; set; }

    /// <summary>
    /// Pass plug-ins the project's packages provide (<c>ModelSdkPassPlugin</c> items, e.g. ModelSdk.Distillation's): loaded
    /// only when a Model item uses one of their passes (see <see cref="PassPlugins"/>).
    /// </summary>
    public ITaskItem[] PassPlugins { get; set; } = [];

    /// <summary>Design-time build: write a header-only manifest if none exists, never compile.</summary>
    public bool ManifestOnly { get; set; }

    /// <summary>Ctrl+C in the build: the running pass or evaluation stops at its next progress report.</summary>
    public void Cancel() => _cancel.Cancel();

    public override bool Execute()
    {
        _plugins = new PassPlugins(PassPlugins, SdkVersion);
        var items = new List<(ITaskItem Task, ModelItem Model)>();
        foreach (var item in Models)
        {
            if (Guard(item, () => items.Add((item, ModelItem.From(item, ProjectDirectory, DefaultNamespace)))) is false) continue;
        }
        foreach (var duplicate in items.GroupBy(i => Path.GetFileName(i.Model.ArtifactPath), StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1))
        {
            Report(duplicate.Last().Task, new ModelSdkException(DiagnosticCodes.DuplicateClassName,
                $"Model items {string.Join(", ", duplicate.Select(d => $"'{d.Model.ItemSpec}'"))} would all produce '{duplicate.Key}'."));
            FlushLog();
            return false;
        }
        // Items compile side by side within the machine's cores; each logs its passes' progress under its class name.
        // Workers only queue their messages: this thread, the one MSBuild called, hands them to the logger.
        var work = System.Threading.Tasks.Task.Run(() => Parallel.ForEach(items,
            new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
            item => Guard(item.Task, () => Compile(item.Model))));
        while (!work.Wait(50)) FlushLog();
        FlushLog();
        work.GetAwaiter().GetResult();
        return !Log.HasLoggedErrors;
    }

    private void Compile(ModelItem model)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(model.ArtifactPath)!);
        // A design-time manifest comes from the checkpoint header: it never loads a plug-in (nor TorchSharp).
        var itemPasses = model.DistillOptions is { } distill && !ManifestOnly
            ? [.. model.Passes, DistillMetadata.Create(distill, _plugins, SdkVersion, model.ItemSpec)]
            : model.Passes;
        var request = new CompileRequest(model.CheckpointPath, model.TokenizerPath, SdkVersion)
        {
            Passes = itemPasses,
            CalibrationPath = model.CalibrationPath,
            EvaluationPath = model.EvaluationPath,
        };
        if (ManifestOnly)
        {
            if (File.Exists(model.ManifestPath)) return;
            WriteManifest(model, ModelCompiler.Inspect(request));
            Message(MessageImportance.Normal, $"ModelSdk: {model.ClassName}: manifest from the checkpoint header (design-time build, nothing compiled).");
            return;
        }

        var clock = Stopwatch.StartNew();
        var plan = ModelCompiler.Plan(request);
        var passes = plan.Request.Passes.Count == 0 ? "" : $", {string.Join(" + ", plan.Request.Passes.Select(p => p.Name))}";
        ArtifactManifest manifest;
        if (IsUpToDate(model, plan.CacheKey))
        {
            Message(MessageImportance.Low, $"ModelSdk: {model.ClassName} is up to date (inputs unchanged, key {plan.CacheKey}).");
            // The artifact's own manifest carries the metrics the gates are checked against (a tightened gate is enforced without recompressing).
            using (var artifact = ModelArtifact.Open(model.ArtifactPath)) manifest = artifact.Manifest with { Tensors = null };
        }
        else
        {
            if (File.Exists(model.KeyPath)) File.Delete(model.KeyPath); // the key is the commit record: never beside a stale artifact
            var cache = new ModelCache(CacheFolder);
            var entry = cache.GetOrAdd(plan, entryPath =>
            {
                Message(MessageImportance.High, $"ModelSdk: compiling {Path.GetFileName(model.CheckpointPath)} -> {Path.GetFileName(model.ArtifactPath)} " +
                    $"({plan.Config.Layers} layers, dim {plan.Config.Dim}, {plan.Manifest.WeightFormat}{passes})");
                ModelCompiler.Compile(plan, entryPath, new CompileOptions
                {
                    Log = message => Message(MessageImportance.High, $"ModelSdk: {model.ClassName}: {message}"),
                    CancellationToken = _cancel.Token,
                    Evaluate = (artifact, reference, text) => ArtifactComparison.Compare(artifact, reference, text, ct: _cancel.Token),
                });
            }, message => Message(MessageImportance.High, $"ModelSdk: {model.ClassName}: {message}"), _cancel.Token);
            entry.CopyTo(model.ArtifactPath);
            AtomicFile.WriteIfDifferent(model.KeyPath, Encoding.UTF8.GetBytes(plan.CacheKey));
            manifest = entry.Manifest with { Tensors = null };
            Message(MessageImportance.High, entry.Hit
                ? $"ModelSdk: {model.ClassName}: shared cache hit, {Path.GetFileName(model.CheckpointPath)}{passes} was compiled before (key {plan.CacheKey} in {cache.Directory})."
                : $"ModelSdk: {model.ClassName} compiled in {clock.Elapsed.TotalSeconds:0.0} s ({FileLength.Of(model.ArtifactPath) / 1e6:0.0} MB).");
        }
        if (manifest.Metrics is { } metrics)
            Message(MessageImportance.High, $"ModelSdk: {model.ClassName} ({manifest.WeightFormat}{passes}): {QualityGates.Describe(metrics)}.");
        try
        {
            model.Gates.Check(manifest.Metrics, $"{model.ClassName} ({manifest.WeightFormat}{passes})");
        }
        catch (ModelSdkException)
        {
            // A model that fails its gate leaves nothing behind for the app to pick up; the next build compresses again.
            foreach (var path in new[] { model.KeyPath, model.ArtifactPath, model.ManifestPath })
                if (File.Exists(path)) File.Delete(path);
            throw;
        }
        WriteManifest(model, manifest);
    }

    private string CacheFolder => string.IsNullOrWhiteSpace(CacheDirectory)
        ? ModelCache.DefaultDirectory
        : Path.GetFullPath(Path.Combine(ProjectDirectory, CacheDirectory.Trim()));

    private static bool IsUpToDate(ModelItem model, string cacheKey)
        => File.Exists(model.KeyPath) && File.Exists(model.ArtifactPath) && File.ReadAllText(model.KeyPath) == cacheKey;

    private static void WriteManifest(ModelItem model, ArtifactManifest manifest)
        => AtomicFile.WriteIfDifferent(model.ManifestPath, ManifestJson.Serialize(manifest with
        {
            Tensors = null,
            ClassName = model.ClassName,
            Namespace = model.Namespace,
            Artifact = Path.GetFileName(model.ArtifactPath),
        }));

    /// <summary>Runs one item's work; a failure is reported as an error on that item and the other items go on.</summary>
    private bool Guard(ITaskItem item, Action work)
    {
        try
        {
            work();
            return true;
        }
        catch (ModelSdkException e)
        {
            Report(item, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Report(item, new ModelSdkException(DiagnosticCodes.ModelFileIo, e.Message));
        }
        catch (OperationCanceledException)
        {
            _log.Enqueue(log => log.LogWarning($"ModelSdk: compiling '{item.ItemSpec}' was canceled."));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Message(MessageImportance.Low, e.ToString());
            Report(item, new ModelSdkException(DiagnosticCodes.InternalError, $"{e.GetType().Name}: {e.Message}"));
        }
        return false;
    }

    private void Report(ITaskItem item, ModelSdkException e)
    {
        var (line, column) = ModelItemLocator.Find(ProjectFile, item.ItemSpec);
        var file = e.FilePath is null ? "" : $" File: {e.FilePath}.";
        _log.Enqueue(log => log.LogError("ModelSdk", e.Code.Id, e.Code.Id, e.Code.HelpLink, ProjectFile, line, column, 0, 0,
            $"{e.Detail}{file} {e.Fix}"));
    }

    private void Message(MessageImportance importance, string text) => _log.Enqueue(log => log.LogMessage(importance, text));

    private void FlushLog()
    {
        while (_log.TryDequeue(out var write)) write(Log);
    }
}

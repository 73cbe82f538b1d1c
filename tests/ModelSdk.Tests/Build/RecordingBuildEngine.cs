using System.Collections;
using System.Collections.Concurrent;
using Microsoft.Build.Framework;

namespace ModelSdk.Tests.Build;

/// <summary>An MSBuild engine for running a task in-process: it keeps every message and error the task logs.</summary>
internal sealed class RecordingBuildEngine : IBuildEngine
{
    public ConcurrentQueue<string> Messages { get; } = new();

    public ConcurrentQueue<BuildErrorEventArgs> Errors { get; } = new();

    public string Log => string.Join('\n', Messages) + '\n' + string.Join('\n', Errors.Select(e => $"error {e.Code}: {e.Message}"));

    public void LogErrorEvent(BuildErrorEventArgs e) => Errors.Enqueue(e);

    public void LogWarningEvent(BuildWarningEventArgs e) => Messages.Enqueue("warning: " + e.Message);

    public void LogMessageEvent(BuildMessageEventArgs e) => Messages.Enqueue(e.Message ?? "");

    public void LogCustomEvent(CustomBuildEventArgs e) => Messages.Enqueue(e.Message ?? "");

    public bool BuildProjectFile(string projectFileName, string[] targetNames, IDictionary globalProperties, IDictionary targetOutputs) => throw new NotSupportedException();

    public bool ContinueOnError => false;

    public int LineNumberOfTaskNode => 0;

    public int ColumnNumberOfTaskNode => 0;

    public string ProjectFileOfTaskNode => "";
}

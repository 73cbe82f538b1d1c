namespace ModelSdk.Runtime.Threading;

/// <summary>
/// One parallel region, cut into chunks that the participants of a <see cref="WorkerTeam"/> execute. Jobs are
/// preallocated objects whose fields are set before each run, so a region allocates nothing.
/// </summary>
internal abstract class TeamJob
{
    /// <summary>How many chunks to cut the work into for <paramref name="participants"/> threads (at least 1).</summary>
    public abstract int ChunkCount(int participants);

    public abstract void Execute(int chunk, int chunks);

    /// <summary>Runs every chunk on the calling thread (the single-threaded path).</summary>
    public void ExecuteAll()
    {
        var chunks = ChunkCount(1);
        for (var c = 0; c < chunks; c++) Execute(c, chunks);
    }

    /// <summary>
    /// Chunk <paramref name="chunk"/>'s share of <paramref name="count"/> items: contiguous ranges of whole
    /// <paramref name="grain"/>-sized blocks. The split depends only on its arguments, so on an idle machine each thread
    /// touches the same weight rows on every token and keeps them in its own caches.
    /// </summary>
    public static (int Start, int End) Split(int count, int chunk, int chunks, int grain)
    {
        if (chunks == 1) return (0, count);
        var blocks = (count + grain - 1) / grain;
        var start = (int)((long)blocks * chunk / chunks) * grain;
        var end = (int)((long)blocks * (chunk + 1) / chunks) * grain;
        return (Math.Min(start, count), Math.Min(end, count));
    }

    /// <summary>Chunks for <paramref name="count"/> items of <paramref name="grain"/>: a few per participant (so a thread that the OS delays can be helped), never an empty one.</summary>
    public static int Chunks(int count, int grain, int participants, int perParticipant = 4)
        => participants == 1 ? 1 : Math.Clamp((count + grain - 1) / grain, 1, participants * perParticipant);
}

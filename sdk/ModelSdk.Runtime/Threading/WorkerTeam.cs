using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace ModelSdk.Runtime.Threading;

/// <summary>
/// A small persistent team of threads for the many short parallel regions of a forward pass (a matvec at stories15M
/// size takes microseconds, far less than a <c>Parallel.For</c> costs). The calling thread is participant 0;
/// <c>size − 1</c> background threads are the others.
/// <list type="bullet">
/// <item>Start: the caller publishes the job and bumps an epoch that idle workers spin on; a worker that has seen no work
/// for <see cref="SpinMicroseconds"/> blocks on a semaphore and is woken by the next region (spin-then-block).</item>
/// <item>Work: each participant owns a fixed, contiguous range of the job's chunks (the same rows every token, so they stay
/// in that core's caches) and claims them one by one with a compare-and-swap on its own cache line. The caller, once its
/// own range is done, also runs the chunks of any worker that has not started the region (asleep, or not scheduled on a
/// busy machine or with more threads than cores) or has made no progress for a millisecond — so a missing worker costs
/// time, never a stall — but leaves a running worker's chunks alone. Claims carry the epoch, so a late worker can never
/// run a chunk of a region that already ended.</item>
/// <item>End: each participant publishes (epoch, chunks it ran) on its own cache line; the caller spins until they add up.</item>
/// </list>
/// One caller at a time: hold <see cref="Enter"/> for a whole forward pass.
/// </summary>
internal sealed class WorkerTeam : IDisposable
{
    /// <summary>How long an idle worker spins before it blocks; covers the gaps between the regions of a forward pass.</summary>
    public const int SpinMicroseconds = 200;

    private readonly Worker[] _workers;
    private readonly Slot[] _claims;   // per participant: (epoch << 32) | next chunk of its home range
    private readonly Slot[] _done;     // per participant: (epoch << 32) | chunks it ran in that epoch
    private readonly object _gate = new();
    private readonly long _spinTicks = Math.Max(1, Stopwatch.Frequency * SpinMicroseconds / 1_000_000);
    private Slot _epoch;
    private TeamJob? _job;
    private int _chunks;
    private Exception? _error;
    private volatile bool _disposed;
    private readonly long _stallTicks = Math.Max(1, Stopwatch.Frequency / 1000); // 1 ms: a scheduler time slice
    private readonly long[] _lastClaim;
    private readonly long[] _lastProgress;

    public WorkerTeam(int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 2);
        Size = size;
        _claims = new Slot[size];
        _done = new Slot[size];
        _lastClaim = new long[size];
        _lastProgress = new long[size];
        _workers = new Worker[size - 1];
        for (var i = 0; i < _workers.Length; i++)
        {
            var worker = new Worker(i + 1);
            _workers[i] = worker;
            worker.Thread = new Thread(() => WorkerLoop(worker))
            {
                IsBackground = true,
                Name = $"ModelSdk worker {i + 1}",
            };
            worker.Thread.Start();
        }
    }

    /// <summary>Participants, the calling thread included.</summary>
    public int Size { get; }

    /// <summary>Takes the team for the calling thread until the returned scope is disposed (other callers wait).</summary>
    public Scope Enter()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Monitor.Enter(_gate);
        return new Scope(this);
    }

    public readonly struct Scope(WorkerTeam team) : IDisposable
    {
        public void Dispose() => Monitor.Exit(team._gate);
    }

    /// <summary>Runs every chunk of <paramref name="job"/> across the team and returns when all are done. The caller must hold <see cref="Enter"/>.</summary>
    public void Run(TeamJob job)
    {
        Debug.Assert(Monitor.IsEntered(_gate));
        var chunks = job.ChunkCount(Size);
        if (chunks <= 1)
        {
            job.Execute(0, 1);
            return;
        }

        var epoch = (int)_epoch.Value + 1;
        for (var p = 0; p < Size; p++) Volatile.Write(ref _claims[p].Value, ((long)epoch << 32) | (uint)HomeStart(p, chunks));
        _chunks = chunks;
        Volatile.Write(ref _job, job);
        Interlocked.Exchange(ref _epoch.Value, epoch); // full fence: publishes the above, and orders the Sleeping reads below
        foreach (var worker in _workers)
        {
            if (Volatile.Read(ref worker.Sleeping) != 0 && Interlocked.Exchange(ref worker.Sleeping, 0) != 0)
                worker.Wake.Release();
        }

        var ran = RunChunks(0, 0, epoch, job, chunks, 0);

        // Wait for the workers. Their chunks are left to them while they run, so each core keeps touching the same weight
        // rows (measured: helping with every unfinished chunk cost ~20% of decode speed, rows wandering between caches).
        // Only a worker that has not started this region (asleep, or not scheduled) or has made no progress for
        // a scheduler time slice is helped.
        var spins = 0;
        for (var q = 1; q < Size; q++) _lastClaim[q] = -1;
        while (Completed(epoch) < chunks)
        {
            var now = Stopwatch.GetTimestamp();
            for (var q = 1; q < Size; q++)
            {
                var claim = Volatile.Read(ref _claims[q].Value);
                if ((int)(uint)claim >= HomeStart(q + 1, chunks)) continue;
                if (claim != _lastClaim[q])
                {
                    _lastClaim[q] = claim;
                    _lastProgress[q] = now;
                }
                if ((int)(uint)claim == HomeStart(q, chunks) || now - _lastProgress[q] > _stallTicks)
                    ran = RunChunks(0, q, epoch, job, chunks, ran);
            }
            if (++spins < 2000) Thread.SpinWait(8);
            else Thread.Yield(); // a worker holding a chunk was descheduled: let it run
        }

        if (Interlocked.Exchange(ref _error, null) is { } error) ExceptionDispatchInfo.Throw(error);
    }

    private int HomeStart(int participant, int chunks) => (int)((long)chunks * participant / Size);

    private int Completed(int epoch)
    {
        var total = 0;
        for (var p = 0; p < Size; p++)
        {
            var done = Volatile.Read(ref _done[p].Value);
            if ((int)(done >> 32) == epoch) total += (int)(uint)done;
        }
        return total;
    }

    /// <summary>
    /// Claims and runs the chunks left in <paramref name="owner"/>'s range of the current region, counting them for
    /// <paramref name="participant"/>; returns its new count of chunks run in this epoch.
    /// </summary>
    private int RunChunks(int participant, int owner, int epoch, TeamJob job, int chunks, int ran)
    {
        var end = HomeStart(owner + 1, chunks);
        ref var claim = ref _claims[owner].Value;
        while (true)
        {
            var value = Volatile.Read(ref claim);
            if ((int)(value >> 32) != epoch) return ran; // the region is over (this participant came late)
            var chunk = (int)(uint)value;
            if (chunk >= end) return ran;
            if (Interlocked.CompareExchange(ref claim, value + 1, value) != value) continue;
            try
            {
                job.Execute(chunk, chunks);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _error, e, null);
            }
            Volatile.Write(ref _done[participant].Value, ((long)epoch << 32) | (uint)++ran);
        }
    }

    private void WorkerLoop(Worker worker)
    {
        var seen = 0;
        while (true)
        {
            var epoch = WaitForWork(worker, seen);
            if (_disposed) return;
            seen = epoch;
            var job = Volatile.Read(ref _job);
            var chunks = _chunks;
            if (job is not null) RunChunks(worker.Index, worker.Index, epoch, job, chunks, 0);
        }
    }

    private int WaitForWork(Worker worker, int seen)
    {
        while (true)
        {
            var start = Stopwatch.GetTimestamp();
            var spins = 0;
            int epoch;
            while ((epoch = (int)Volatile.Read(ref _epoch.Value)) == seen && !_disposed)
            {
                Thread.SpinWait(4);
                if ((++spins & 63) == 0 && Stopwatch.GetTimestamp() - start > _spinTicks) break;
            }
            if (epoch != seen || _disposed) return epoch;

            // Block: announce it, then re-check, so a region published in between is not missed.
            Interlocked.Exchange(ref worker.Sleeping, 1);
            if ((int)Volatile.Read(ref _epoch.Value) != seen || _disposed)
            {
                // A waker may already have taken the flag and released the semaphore: that only causes one spurious wake.
                Interlocked.Exchange(ref worker.Sleeping, 0);
                continue;
            }
            worker.Wake.Wait();
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var worker in _workers) worker.Wake.Release();
        foreach (var worker in _workers) worker.Thread!.Join();
        foreach (var worker in _workers) worker.Wake.Dispose();
    }

    private sealed class Worker(int index)
    {
        public readonly int Index = index;
        public readonly SemaphoreSlim Wake = new(0);
        public Thread? Thread;
        public int Sleeping;
    }

    /// <summary>A long alone on its cache lines (128 bytes either side covers adjacent-line prefetch), so threads do not false-share.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct Slot
    {
        [FieldOffset(128)] public long Value;
    }
}

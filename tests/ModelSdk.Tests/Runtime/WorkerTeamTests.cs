using ModelSdk.Runtime.Threading;

namespace ModelSdk.Tests.Runtime;

public sealed class WorkerTeamTests
{
    private sealed class CountingJob(int chunks) : TeamJob
    {
        public int[] Hits = new int[chunks];
        public int ThrowAt = -1;

        public override int ChunkCount(int participants) => Hits.Length;

        public override void Execute(int chunk, int chunks)
        {
            Interlocked.Increment(ref Hits[chunk]);
            if (chunk == ThrowAt) throw new InvalidOperationException("boom");
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(8)] // more threads than cores: workers are often not scheduled, the others take their chunks
    public void EveryChunkRunsExactlyOnce_RegionAfterRegion(int size)
    {
        using var team = new WorkerTeam(size);
        using var scope = team.Enter();
        for (var region = 0; region < 2000; region++)
        {
            var job = new CountingJob(1 + region % 13);
            team.Run(job);
            Assert.All(job.Hits, h => Assert.Equal(1, h));
        }
    }

    [Fact]
    public void IdleWorkersBlock_AndWakeForTheNextRegion()
    {
        using var team = new WorkerTeam(2);
        for (var i = 0; i < 3; i++)
        {
            Thread.Sleep(WorkerTeam.SpinMicroseconds / 1000 + 20); // past the spin budget: the worker sleeps
            using var scope = team.Enter();
            var job = new CountingJob(8);
            team.Run(job);
            Assert.All(job.Hits, h => Assert.Equal(1, h));
        }
    }

    [Fact]
    public void AnExceptionInAChunk_ReachesTheCaller_AndTheTeamStaysUsable()
    {
        using var team = new WorkerTeam(2);
        using var scope = team.Enter();
        Assert.Throws<InvalidOperationException>(() => team.Run(new CountingJob(8) { ThrowAt = 6 }));
        var job = new CountingJob(8);
        team.Run(job);
        Assert.All(job.Hits, h => Assert.Equal(1, h));
    }

    [Fact]
    public void Split_CoversTheRangeInWholeGrains()
    {
        foreach (var count in new[] { 1, 7, 288, 1000 })
        foreach (var chunks in new[] { 1, 2, 3, 8 })
        {
            var covered = new List<int>();
            for (var c = 0; c < chunks; c++)
            {
                var (start, end) = TeamJob.Split(count, c, chunks, 4);
                Assert.True(start % 4 == 0 && (end % 4 == 0 || end == count));
                for (var i = start; i < end; i++) covered.Add(i);
            }
            Assert.Equal(Enumerable.Range(0, count), covered);
        }
    }
}

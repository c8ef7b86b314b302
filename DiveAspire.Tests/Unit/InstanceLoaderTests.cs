using DiveAspire.Topology;

namespace DiveAspire.Tests.Unit;

public sealed class InstanceLoaderTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("dive-instances-").FullName;

    private void Write(string folder, string json)
    {
        Directory.CreateDirectory(Path.Combine(_root, folder));
        File.WriteAllText(Path.Combine(_root, folder, "instance.json"), json);
    }

    [Fact]
    public void The_committed_instances_are_usa_hub_and_three_spokes()
    {
        var topology = DiveTopology.Load(DiveTopology.FindInstancesDirectory(AppContext.BaseDirectory));
        Assert.Equal("USA", topology.Hub.Code);
        Assert.Equal(["BEL", "DNK", "ROU"], topology.Spokes.Select(s => s.Code));
        Assert.Equal("512mb", RedisStoreSpec.ForInstance(topology.Hub).MaxMemory);
    }

    [Fact]
    public void Spokes_can_be_narrowed_case_insensitively_and_to_none()
    {
        Write("usa", """{"code":"USA","role":"hub"}""");
        Write("rou", """{"code":"ROU","role":"spoke"}""");
        Write("bel", """{"code":"BEL","role":"spoke"}""");
        Assert.Equal(["ROU"], DiveTopology.Load(_root, "rou").Spokes.Select(s => s.Code));
        Assert.Equal(["BEL", "ROU"], DiveTopology.Load(_root, "ROU, bel").Spokes.Select(s => s.Code));
        Assert.Empty(DiveTopology.Load(_root, "none").Spokes);
        var ex = Assert.Throws<TopologyException>(() => DiveTopology.Load(_root, "fra"));
        Assert.Contains("FRA", ex.Message);
        Assert.Contains("BEL, ROU", ex.Message);
    }

    [Theory]
    [InlineData("""{"role":"spoke"}""", "field 'code' is required")]
    [InlineData("""{"code":"XYZ","role":"spoke"}""", "field 'code' 'XYZ' is not a known instance code")]
    [InlineData("""{"code":"BEL","role":"spoke"}""", "does not match its folder name 'rou'")]
    [InlineData("""{"code":"ROU","role":"leader"}""", "field 'role' must be 'hub' or 'spoke'")]
    [InlineData("""{"code":"ROU","role":"spoke","redis":{"maxmemory":"lots"}}""", "field 'redis.maxmemory'")]
    [InlineData("""{"code":"ROU","role":"spoke","redis":{"maxmemoryPolicy":"lru"}}""", "field 'redis.maxmemoryPolicy'")]
    [InlineData("""{"code":"ROU","role":"spoke","colour":"red"}""", "field 'colour' is not a known field")]
    [InlineData("""{"code":"ROU", """, "not valid JSON")]
    public void Bad_instance_files_name_the_file_and_the_field(string json, string expected)
    {
        Write("usa", """{"code":"USA","role":"hub"}""");
        Write("rou", json);
        var ex = Assert.Throws<TopologyException>(() => DiveTopology.Load(_root));
        Assert.Contains(Path.Combine("rou", "instance.json"), ex.Message);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void Exactly_one_hub_is_required()
    {
        Write("rou", """{"code":"ROU","role":"spoke"}""");
        Assert.Contains("exactly one instance with role 'hub'", Assert.Throws<TopologyException>(() => DiveTopology.Load(_root)).Message);
    }

    [Fact]
    public void Overrides_reach_the_redis_spec()
    {
        Write("usa", """{"code":"USA","role":"hub"}""");
        Write("rou", """{"code":"ROU","role":"spoke","redis":{"maxmemory":"1GB","maxmemoryPolicy":"allkeys-lfu"}}""");
        var spec = RedisStoreSpec.ForInstance(DiveTopology.Load(_root).Get("rou"));
        Assert.Equal("1gb", spec.MaxMemory);
        Assert.Equal("allkeys-lfu", spec.MaxMemoryPolicy);
        Assert.Equal(6404, spec.HostPort);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}

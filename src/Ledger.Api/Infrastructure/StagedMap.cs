namespace Ledger.Api.Infrastructure;

/// <summary>
/// A map kept by group state (<see cref="IGroupState"/>): what the running request writes is staged and shadows what the
/// group knows, until the request is kept (its savepoint released: the staged entries become known) or discarded (they
/// are dropped, as its rows are). One piece of code for every such cache, so none can keep a rolled-back value.
/// </summary>
public sealed class StagedMap<TKey, TValue>(IEqualityComparer<TKey>? comparer = null) where TKey : notnull
{
    private readonly Dictionary<TKey, TValue> _known = new(comparer);
    private readonly Dictionary<TKey, TValue> _staged = new(comparer);

    /// <summary>The running request's value if it staged one, else the group's.</summary>
    public bool TryGetValue(TKey key, out TValue value) =>
        _staged.TryGetValue(key, out value!) || _known.TryGetValue(key, out value!);

    /// <summary>A value read from the database (or kept from an earlier request): true whatever the running request does.</summary>
    public void SetKnown(TKey key, TValue value) => _known[key] = value;

    /// <summary>A value the running request wrote: seen from now on, kept only if the request is.</summary>
    public void Stage(TKey key, TValue value) => _staged[key] = value;

    /// <summary>The group's values, the running request's staged ones not included.</summary>
    public IReadOnlyDictionary<TKey, TValue> Known => _known;

    public void KeepRequest()
    {
        foreach (var (key, value) in _staged) _known[key] = value;
        _staged.Clear();
    }

    public void DiscardRequest() => _staged.Clear();

    public void Clear()
    {
        _known.Clear();
        _staged.Clear();
    }
}

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ledger.Domain;

/// <summary>
/// The canonical form of a JSON value, as RFC 8785 (JSON Canonicalization Scheme) writes it for the values events
/// hold: object members sorted by their names' UTF-16 code units, no whitespace, strings with only '"', '\' and the
/// control characters escaped ("\b", "\t", "\n", "\f", "\r", else "\u00xx" in lower-case hex), every other character
/// as its UTF-8 bytes, integers in decimal. Events hold no fractional numbers (amounts are decimal strings), so a
/// number that is not an integer is refused rather than formatted. Anyone can recompute these bytes with any JCS
/// library, or with the verifier in src/Ledger.AuditVerify.
/// </summary>
public static class CanonicalJson
{
    public static byte[] Bytes(JsonNode? node)
    {
        var text = new StringBuilder();
        Write(text, node, depth: 0);
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    public static string Text(JsonNode? node) => Encoding.UTF8.GetString(Bytes(node));

    // Events are shallow (entry → lines → line); the bound keeps a hostile export from exhausting the stack.
    private const int MaxDepth = 64;

    private static void Write(StringBuilder text, JsonNode? node, int depth)
    {
        if (depth > MaxDepth) throw new FormatException($"JSON nested deeper than {MaxDepth} levels.");
        switch (node)
        {
            case null:
                text.Append("null");
                break;
            case JsonObject obj:
                text.Append('{');
                var first = true;
                foreach (var (name, value) in obj.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    if (!first) text.Append(',');
                    first = false;
                    WriteString(text, name);
                    text.Append(':');
                    Write(text, value, depth + 1);
                }
                text.Append('}');
                break;
            case JsonArray array:
                text.Append('[');
                for (var i = 0; i < array.Count; i++)
                {
                    if (i > 0) text.Append(',');
                    Write(text, array[i], depth + 1);
                }
                text.Append(']');
                break;
            case JsonValue value:
                WriteValue(text, value);
                break;
        }
    }

    private static void WriteValue(StringBuilder text, JsonValue value)
    {
        switch (value.GetValueKind())
        {
            case JsonValueKind.String:
                WriteString(text, value.GetValue<string>());
                break;
            case JsonValueKind.True:
                text.Append("true");
                break;
            case JsonValueKind.False:
                text.Append("false");
                break;
            case JsonValueKind.Null:
                text.Append("null");
                break;
            case JsonValueKind.Number:
                // Integers only: long covers ids, numbers and sequences; read as long from whatever the node holds.
                long integer;
                if (value.TryGetValue<long>(out var l)) integer = l;
                else if (value.TryGetValue<int>(out var i)) integer = i;
                else if (value.TryGetValue<JsonElement>(out var e) && e.TryGetInt64(out var parsed)) integer = parsed;
                else throw new FormatException($"Only integers are canonical here, not {value.ToJsonString()}.");
                text.Append(integer.ToString(CultureInfo.InvariantCulture));
                break;
            default:
                throw new FormatException($"Cannot write {value.GetValueKind()} canonically.");
        }
    }

    /// <summary>A string as canonical JSON text, quotes included.</summary>
    public static void AppendString(StringBuilder text, string value) => WriteString(text, value);

    private static void WriteString(StringBuilder text, string value)
    {
        text.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': text.Append("\\\""); break;
                case '\\': text.Append("\\\\"); break;
                case '\b': text.Append("\\b"); break;
                case '\t': text.Append("\\t"); break;
                case '\n': text.Append("\\n"); break;
                case '\f': text.Append("\\f"); break;
                case '\r': text.Append("\\r"); break;
                default:
                    if (c < 0x20) text.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else text.Append(c);
                    break;
            }
        }
        text.Append('"');
    }
}

/// <summary>
/// The hash chain of a book's events: hash(n) = SHA-256(hash(n−1) ‖ canonical bytes of event n), the previous hash as
/// its 32 raw bytes, and 32 zero bytes before the first event. Hashes are written as 64 lower-case hex digits. Changing
/// any byte of any event changes its hash and every hash after it.
/// </summary>
public static class AuditChain
{
    public static readonly string Genesis = new('0', 64);

    public static string Next(string previousHash, ReadOnlySpan<byte> canonicalEvent)
    {
        if (previousHash.Length != 64) throw new ArgumentException("A hash is 64 hex digits.", nameof(previousHash));
        // One pass over previous ‖ event in a rented buffer: this runs once per posted entry.
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(32 + canonicalEvent.Length);
        try
        {
            if (Convert.FromHexString(previousHash, buffer.AsSpan(0, 32), out _, out var headBytes) != System.Buffers.OperationStatus.Done || headBytes != 32)
                throw new FormatException("The previous hash is not 64 hex digits.");
            canonicalEvent.CopyTo(buffer.AsSpan(32));
            Span<byte> hash = stackalloc byte[32];
            SHA256.HashData(buffer.AsSpan(0, 32 + canonicalEvent.Length), hash);
            return Convert.ToHexStringLower(hash);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    [ThreadStatic] private static StringBuilder? _head;
    [ThreadStatic] private static byte[]? _buffer;

    /// <summary>
    /// <see cref="Next(string, ReadOnlySpan{byte})"/> of <see cref="EventBytes"/>, without building the event's text or
    /// bytes as objects: the poster runs this once per entry, and those allocations were most of what the log cost it.
    /// The same bytes are hashed (a test holds the two equal).
    /// </summary>
    public static string NextEvent(string previousHash, long sequence, string type, string occurredAt, string? actorKeyId, string? actorName,
        string subjectType, string subjectId, string canonicalData)
    {
        var head = _head ??= new StringBuilder(256);
        head.Clear();
        var prefixLength = AppendEventHead(head, sequence, type, occurredAt, actorKeyId, actorName, subjectType, subjectId);

        var utf8 = Encoding.UTF8;
        var need = 32 + utf8.GetMaxByteCount(head.Length) + utf8.GetMaxByteCount(canonicalData.Length);
        if (_buffer is null || _buffer.Length < need) _buffer = new byte[Math.Max(need, 4096)];
        var buffer = _buffer.AsSpan();
        if (Convert.FromHexString(previousHash, buffer[..32], out _, out var headBytes) != System.Buffers.OperationStatus.Done || headBytes != 32)
            throw new FormatException("The previous hash is not 64 hex digits.");
        var at = 32;
        Span<char> chunk = stackalloc char[256];
        at += EncodeRange(head, 0, prefixLength, buffer[at..], chunk);
        at += utf8.GetBytes(canonicalData, buffer[at..]);
        at += EncodeRange(head, prefixLength, head.Length - prefixLength, buffer[at..], chunk);
        // One hasher per thread, reset by each use: the one-shot SHA256.HashData sets up and tears down a native digest
        // context on every call, which cost more than hashing the half kilobyte of an event.
        var hasher = _hasher ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hasher.AppendData(buffer[..at]);
        Span<byte> hash = stackalloc byte[32];
        if (!hasher.TryGetHashAndReset(hash, out var written) || written != 32) throw new CryptographicException("SHA-256 gave no 32-byte hash.");
        return Convert.ToHexStringLower(hash);
    }

    [ThreadStatic] private static IncrementalHash? _hasher;

    private static int EncodeRange(StringBuilder text, int start, int length, Span<byte> into, Span<char> chunk)
    {
        var written = 0;
        // Bounded: each pass encodes up to a chunk of the builder's characters.
        while (length > 0)
        {
            var take = Math.Min(length, chunk.Length);
            // Never split a surrogate pair between two chunks: each half alone would encode as U+FFFD.
            if (take < length && char.IsHighSurrogate(text[start + take - 1])) take--;
            text.CopyTo(start, chunk, take);
            written += Encoding.UTF8.GetBytes(chunk[..take], into[written..]);
            start += take;
            length -= take;
        }
        return written;
    }

    /// <summary>
    /// The canonical bytes of an event: RFC 8785 of the object {actor: {keyId, name} | null, data, occurredAt, sequence,
    /// subject: {id, type}, type} (members in that order, which is the sorted one). <paramref name="canonicalData"/> is
    /// the event's data already in canonical form, as the log stores it; written here without re-parsing, which gives
    /// the same bytes as canonicalizing the whole object.
    /// </summary>
    public static byte[] EventBytes(long sequence, string type, string occurredAt, string? actorKeyId, string? actorName,
        string subjectType, string subjectId, string canonicalData)
    {
        var text = new StringBuilder(canonicalData.Length + 256);
        var prefixLength = AppendEventHead(text, sequence, type, occurredAt, actorKeyId, actorName, subjectType, subjectId);
        text.Insert(prefixLength, canonicalData);
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>
    /// Writes the event's members around its data and returns where the data goes: everything before that position
    /// precedes the data, everything after follows it. One writer for <see cref="EventBytes"/> and <see cref="NextEvent"/>,
    /// so the two cannot drift apart.
    /// </summary>
    private static int AppendEventHead(StringBuilder text, long sequence, string type, string occurredAt, string? actorKeyId, string? actorName,
        string subjectType, string subjectId)
    {
        text.Append("{\"actor\":");
        if (actorKeyId is null) text.Append("null");
        else
        {
            text.Append("{\"keyId\":");
            CanonicalJson.AppendString(text, actorKeyId);
            text.Append(",\"name\":");
            if (actorName is null) text.Append("null"); else CanonicalJson.AppendString(text, actorName);
            text.Append('}');
        }
        text.Append(",\"data\":");
        var dataAt = text.Length;
        text.Append(",\"occurredAt\":");
        CanonicalJson.AppendString(text, occurredAt);
        text.Append(",\"sequence\":").Append(sequence.ToString(CultureInfo.InvariantCulture));
        text.Append(",\"subject\":{\"id\":");
        CanonicalJson.AppendString(text, subjectId);
        text.Append(",\"type\":");
        CanonicalJson.AppendString(text, subjectType);
        text.Append("},\"type\":");
        CanonicalJson.AppendString(text, type);
        text.Append('}');
        return dataAt;
    }
}

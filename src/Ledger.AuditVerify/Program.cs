using System.Text.Json;
using System.Text.Json.Nodes;
using Ledger.Domain;

// Verifies a Ledger audit export (JSON Lines, one event per line, in sequence order) without the server: every
// sequence follows the one before, and every hash is SHA-256(previous hash ‖ canonical bytes of the event), from 32
// zero bytes before the first. Prints the head (the last hash) when the chain holds, which an auditor compares with
// the head the server answers (GET …/audit/verify) or one noted earlier; exit code 0 when valid, 1 when not, 2 for usage.
//   dotnet run --project src/Ledger.AuditVerify -- export.jsonl        (or - for standard input)

if (args.Length != 1)
{
    Console.Error.WriteLine("Usage: Ledger.AuditVerify <export.jsonl | ->");
    return 2;
}

using var input = args[0] == "-" ? Console.In : new StreamReader(args[0]);
var head = AuditChain.Genesis;
long expected = 1, lineNumber = 0;
string? line;
// One line at a time: an export of millions of events never sits in memory.
while ((line = input.ReadLine()) is not null)
{
    lineNumber++;
    if (line.Length == 0) continue;
    try
    {
        var e = JsonNode.Parse(line)!.AsObject();
        var sequence = e["sequence"]!.GetValue<long>();
        if (sequence != expected) return Fail(lineNumber, $"event {expected} is missing (found {sequence}).");
        var actor = e["actor"];
        var bytes = AuditChain.EventBytes(sequence, e["type"]!.GetValue<string>(), e["occurredAt"]!.GetValue<string>(),
            actor?["keyId"]?.GetValue<string>(), actor?["name"]?.GetValue<string>(),
            e["subject"]!["type"]!.GetValue<string>(), e["subject"]!["id"]!.GetValue<string>(), CanonicalJson.Text(e["data"]));
        var hash = AuditChain.Next(head, bytes);
        if (hash != e["hash"]?.GetValue<string>()) return Fail(lineNumber, $"event {sequence} does not match its hash: it was changed, or an event before it was.");
        head = hash;
        expected++;
    }
    catch (Exception ex) when (ex is JsonException or InvalidOperationException or NullReferenceException or FormatException or KeyNotFoundException
                                   or ArgumentException or OverflowException)
    {
        return Fail(lineNumber, $"not an event of an audit export ({ex.Message}).");
    }
}
Console.WriteLine($"valid: {expected - 1} events, head {head}");
return 0;

static int Fail(long line, string reason)
{
    Console.WriteLine($"INVALID at line {line}: {reason}");
    return 1;
}

using System.Text;
using System.Text.Json.Nodes;
using Ledger.Domain;

namespace Ledger.Domain.Tests;

public class AuditChainTests
{
    [Fact]
    public void Canonical_json_sorts_members_escapes_only_what_rfc_8785_escapes_and_writes_integers_plainly()
    {
        var node = JsonNode.Parse("""{ "b": [1, "x\u0001y", null, true], "a": {"é": "\"\\/\n", "A": -7}, "aa": false }""");
        Assert.Equal("{\"a\":{\"A\":-7,\"é\":\"\\\"\\\\/\\n\"},\"aa\":false,\"b\":[1,\"x\\u0001y\",null,true]}", CanonicalJson.Text(node));
        Assert.Throws<FormatException>(() => CanonicalJson.Text(JsonNode.Parse("{\"amount\": 1.5}")));
    }

    [Fact]
    public void The_event_bytes_are_the_canonical_form_of_the_whole_event_and_each_hash_chains_to_the_one_before()
    {
        var data = new JsonObject { ["lines"] = new JsonArray(new JsonObject { ["debit"] = "1.00", ["account"] = "1010" }), ["id"] = 5 };
        var whole = new JsonObject
        {
            ["type"] = "journal_entry.posted", ["sequence"] = 3, ["occurredAt"] = "2026-11-30T02:00:00Z",
            ["actor"] = new JsonObject { ["name"] = "script", ["keyId"] = "k1" },
            ["subject"] = new JsonObject { ["type"] = "journal_entry", ["id"] = "5" }, ["data"] = data.DeepClone(),
        };
        var bytes = AuditChain.EventBytes(3, "journal_entry.posted", "2026-11-30T02:00:00Z", "k1", "script", "journal_entry", "5", CanonicalJson.Text(data));
        Assert.Equal(CanonicalJson.Text(whole), Encoding.UTF8.GetString(bytes));

        var first = AuditChain.Next(AuditChain.Genesis, bytes);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData([.. new byte[32], .. bytes])), first);
        Assert.NotEqual(first, AuditChain.Next(first, bytes));
        // The poster's path hashes the same bytes without building them, also for text that needs escaping or is not ASCII.
        Assert.Equal(first, AuditChain.NextEvent(AuditChain.Genesis, 3, "journal_entry.posted", "2026-11-30T02:00:00Z", "k1", "script",
            "journal_entry", "5", CanonicalJson.Text(data)));
        // An emoji straddling the fast path's 256-character chunks (a long key name) hashes as the canonical bytes do.
        foreach (var pad in new[] { 150, 190, 191, 192, 230 })
        {
            var name = new string('a', pad) + "😀";
            Assert.Equal(AuditChain.Next(first, AuditChain.EventBytes(1, "t", "2026", "k", name, "s", "1", "{}")),
                AuditChain.NextEvent(first, 1, "t", "2026", "k", name, "s", "1", "{}"));
        }
        var odd = AuditChain.EventBytes(9, "t\"ype", "2026", null, null, "s\u0001", "é€😀", "{\"x\":\"" + new string('ü', 400) + "\"}");
        Assert.Equal(AuditChain.Next(first, odd),
            AuditChain.NextEvent(first, 9, "t\"ype", "2026", null, null, "s\u0001", "é€😀", "{\"x\":\"" + new string('ü', 400) + "\"}"));
    }
}

using System.Collections.Concurrent;
using System.IO.Compression;
using System.Net;
using System.Text;
using DiveAspire.Tests.Cli;

namespace DiveAspire.Tests.Infrastructure;

/// <summary>One span as an OTLP exporter sent it.</summary>
public sealed record OtlpSpan(string Service, string Scope, string Name, string TraceId, string ParentSpanId, IReadOnlyDictionary<string, string> Attributes);

/// <summary>
/// A real OTLP/HTTP receiver (protobuf, what <c>OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf</c> sends to <c>/v1/traces</c>)
/// on a random loopback port: it answers every export and keeps the spans, decoded from the wire format of
/// opentelemetry-proto's ExportTraceServiceRequest (the few fields a test reads).
/// </summary>
public sealed class OtlpTraceReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<OtlpSpan> _spans = new();
    private readonly Task _loop;

    public OtlpTraceReceiver()
    {
        Port = FreePort.Next();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public int Port { get; }
    public string Endpoint => $"http://127.0.0.1:{Port}";
    public IReadOnlyList<OtlpSpan> Spans => [.. _spans];

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            using var body = new MemoryStream();
            var input = context.Request.Headers["Content-Encoding"] == "gzip"
                ? new GZipStream(context.Request.InputStream, CompressionMode.Decompress)
                : context.Request.InputStream;
            await input.CopyToAsync(body);
            if (context.Request.Url?.AbsolutePath == "/v1/traces")
            {
                foreach (var span in Decode(body.ToArray()))
                {
                    _spans.Enqueue(span);
                }
            }
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/x-protobuf";
            context.Response.Close();
        }
    }

    /// <summary>ExportTraceServiceRequest: resource_spans=1 { resource=1 { attributes=1 }, scope_spans=2 { scope=1 { name=1 }, spans=2 } }.</summary>
    public static IEnumerable<OtlpSpan> Decode(byte[] request)
    {
        foreach (var resourceSpans in Messages(request, 1))
        {
            var service = Messages(resourceSpans, 1).SelectMany(r => Attributes(r, 1)).FirstOrDefault(a => a.Key == "service.name").Value ?? "";
            foreach (var scopeSpans in Messages(resourceSpans, 2))
            {
                var scope = Messages(scopeSpans, 1).Select(s => Text(s, 1)).FirstOrDefault() ?? "";
                foreach (var span in Messages(scopeSpans, 2))
                {
                    // Span: trace_id=1, parent_span_id=4, name=5, attributes=9.
                    yield return new OtlpSpan(service, scope, Text(span, 5) ?? "", Hex(span, 1), Hex(span, 4),
                        Attributes(span, 9).GroupBy(a => a.Key).ToDictionary(g => g.Key, g => g.First().Value));
                }
            }
        }
    }

    /// <summary>KeyValue { key=1, value=2 AnyValue { string_value=1, bool_value=2, int_value=3 } }.</summary>
    private static IEnumerable<KeyValuePair<string, string>> Attributes(byte[] message, int field) =>
        Messages(message, field).Select(kv =>
        {
            var key = Text(kv, 1) ?? "";
            var value = Messages(kv, 2).Select(any => Fields(any).Select(f => f.Number switch
            {
                1 => Encoding.UTF8.GetString(f.Bytes),
                2 => (f.Varint != 0).ToString(),
                3 => ((long)f.Varint).ToString(System.Globalization.CultureInfo.InvariantCulture),
                _ => "",
            }).FirstOrDefault() ?? "").FirstOrDefault() ?? "";
            return KeyValuePair.Create(key, value);
        });

    private static IEnumerable<byte[]> Messages(byte[] message, int field) =>
        Fields(message).Where(f => f.Number == field && f.WireType == 2).Select(f => f.Bytes);

    private static string? Text(byte[] message, int field) => Messages(message, field).Select(Encoding.UTF8.GetString).FirstOrDefault();

    private static string Hex(byte[] message, int field) => Messages(message, field).Select(Convert.ToHexStringLower).FirstOrDefault() ?? "";

    private readonly record struct Field(int Number, int WireType, ulong Varint, byte[] Bytes);

    private static List<Field> Fields(byte[] message)
    {
        var fields = new List<Field>();
        var at = 0;
        while (at < message.Length)
        {
            var tag = Varint(message, ref at);
            var (number, wireType) = ((int)(tag >> 3), (int)(tag & 7));
            switch (wireType)
            {
                case 0:
                    fields.Add(new(number, wireType, Varint(message, ref at), []));
                    break;
                case 1:
                    at += 8;
                    break;
                case 2:
                    var length = (int)Varint(message, ref at);
                    fields.Add(new(number, wireType, 0, message[at..(at + length)]));
                    at += length;
                    break;
                case 5:
                    at += 4;
                    break;
                default:
                    throw new InvalidDataException($"protobuf wire type {wireType} at byte {at}");
            }
        }
        return fields;
    }

    private static ulong Varint(byte[] message, ref int at)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = message[at++];
            value |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }
    }

    public void Dispose()
    {
        _listener.Close();
        _loop.Wait(TimeSpan.FromSeconds(5));
    }
}

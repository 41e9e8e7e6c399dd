using System;
using System.Collections.Generic;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;

namespace Fillbook.Exporter
{
    /// <summary>What one POST /api/ingest came back with.</summary>
    public sealed class IngestResponse
    {
        public IngestResponse(int statusCode, string body, string retryAfterHeader)
        {
            StatusCode = statusCode;
            Body = body ?? "";
            RetryAfterHeader = retryAfterHeader;
        }

        /// <summary>A response that never came: connection refused, reset, timed out.</summary>
        public static IngestResponse NetworkError(string reason)
        {
            var response = new IngestResponse(0, "", null);
            response.NetworkFailure = reason;
            return response;
        }

        /// <summary>0 when no response arrived (see <see cref="NetworkFailure"/>).</summary>
        public int StatusCode { get; private set; }

        public string Body { get; private set; }

        public string RetryAfterHeader { get; private set; }

        public string NetworkFailure { get; private set; }

        /// <summary>
        /// Worth sending again: no response, 408, 429 or any 5xx (the service stores a batch in
        /// one transaction, and ids make a resend of a stored batch a duplicate).
        /// </summary>
        public bool IsRetryable
        {
            get { return StatusCode == 0 || StatusCode == 408 || StatusCode == 429 || StatusCode >= 500; }
        }

        /// <summary>
        /// The service's reason for an error response: the JSON <c>detail</c> (or <c>error</c>),
        /// else the raw body.
        /// </summary>
        public string Detail()
        {
            if (NetworkFailure != null) return NetworkFailure;
            try
            {
                var document = Json.Parse(Body) as Dictionary<string, object>;
                if (document != null)
                {
                    object detail;
                    if (document.TryGetValue("detail", out detail) && detail != null)
                    {
                        return detail as string ?? Json.Serialize(detail);
                    }
                    object error;
                    if (document.TryGetValue("error", out error) && error != null) return error.ToString();
                }
            }
            catch (FormatException)
            {
                // not JSON: fall through to the raw text
            }
            return Body.Length > 500 ? Body.Substring(0, 500) : Body;
        }
    }

    /// <summary>Sends one encoded batch to the service.</summary>
    public interface IIngestTransport : IDisposable
    {
        IngestResponse Post(byte[] jsonBody);
    }

    /// <summary>
    /// POST /api/ingest over HttpClient (System.Net.Http: part of netstandard2.0, and on Mono
    /// with -r:System.Net.Http) with <c>Authorization: Bearer &lt;api key&gt;</c>.
    /// </summary>
    public sealed class HttpIngestTransport : IIngestTransport
    {
        private readonly HttpClient _http;
        private readonly Uri _endpoint;
        private readonly string _apiKey;

        public HttpIngestTransport(string baseUrl, string apiKey, TimeSpan timeout)
        {
            if (string.IsNullOrEmpty(baseUrl)) throw new ArgumentException("baseUrl is required");
            if (string.IsNullOrEmpty(apiKey)) throw new ArgumentException("apiKey is required");
            _endpoint = new Uri(baseUrl.TrimEnd('/') + "/api/ingest");
            _apiKey = apiKey;
            // A proxy from the environment (http_proxy) cannot reach this machine's loopback.
            var handler = new HttpClientHandler();
            if (_endpoint.IsLoopback) handler.UseProxy = false;
            _http = new HttpClient(handler);
            _http.Timeout = timeout;
        }

        public IngestResponse Post(byte[] jsonBody)
        {
            try
            {
                using (var request = new HttpRequestMessage(HttpMethod.Post, _endpoint))
                {
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _apiKey);
                    request.Headers.ExpectContinue = false;
                    request.Content = new ByteArrayContent(jsonBody);
                    request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                    // Blocking on the task is fine here: the sender owns a dedicated thread and
                    // there is no synchronization context to deadlock on.
                    using (HttpResponseMessage response = _http.SendAsync(request).GetAwaiter().GetResult())
                    {
                        string body = response.Content == null
                            ? ""
                            : Encoding.UTF8.GetString(response.Content.ReadAsByteArrayAsync().GetAwaiter().GetResult());
                        string retryAfter = null;
                        IEnumerable<string> values;
                        if (response.Headers.TryGetValues("Retry-After", out values))
                        {
                            foreach (string value in values)
                            {
                                retryAfter = value;
                                break;
                            }
                        }
                        return new IngestResponse((int)response.StatusCode, body, retryAfter);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                return IngestResponse.NetworkError("timed out after " + _http.Timeout.TotalSeconds + " s");
            }
            catch (Exception error)
            {
                // HttpRequestException, IOException, WebException, SocketException, and on Mono
                // the odd ObjectDisposedException of a connection reset mid-request: whatever
                // the HTTP stack throws, no answer arrived, and resending the batch is harmless.
                return IngestResponse.NetworkError(Describe(error));
            }
        }

        private static string Describe(Exception error)
        {
            // Wrapped exceptions often repeat their inner message; keep each distinct one once.
            var text = new StringBuilder(error.Message);
            string previous = error.Message;
            for (Exception inner = error.InnerException; inner != null; inner = inner.InnerException)
            {
                if (inner.Message != previous) text.Append(": ").Append(inner.Message);
                previous = inner.Message;
            }
            return text.ToString();
        }

        public void Dispose()
        {
            _http.Dispose();
        }
    }
}

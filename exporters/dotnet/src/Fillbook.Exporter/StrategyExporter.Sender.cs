using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Threading;

namespace Fillbook.Exporter
{
    /// <summary>The sender thread: waits for a due batch, posts it, settles the answer or retries.</summary>
    public sealed partial class StrategyExporter
    {
        /// <summary>
        /// The sender thread. An unexpected failure (the spool's disk failing, a bug) stops the
        /// sender with its reason instead of ending the thread silently and leaving Flush to time out.
        /// </summary>
        private void RunSender()
        {
            try
            {
                SendLoop();
            }
            catch (Exception error)
            {
                Stop("sender failed: " + error.GetType().Name + ": " + error.Message);
            }
        }

        private void SendLoop()
        {
            int attempt = 0;
            while (WaitUntilBatchDue())
            {
                List<SpooledEvent> batch = _spool.Peek(_options.MaxBatchEvents, _options.MaxBatchBytes);
                if (batch.Count == 0) continue;
                IngestResponse response = _transport.Post(Envelope(batch));
                if (response.StatusCode == 200 && Settle(batch, response))
                {
                    attempt = 0;
                    continue;
                }
                if (response.StatusCode != 200 && !response.IsRetryable)
                {
                    // An envelope error: the same batch would be refused again.
                    Stop(response.StatusCode + ": " + response.Detail());
                    return;
                }
                TimeSpan delay = RetryDelay(attempt++, response);
                Interlocked.Increment(ref _retries);
                _log("sending " + batch.Count + " events failed (" +
                     (response.StatusCode == 0 ? response.Detail() : response.StatusCode + ": " + response.Detail()) +
                     "); retrying in " + delay.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s");
                if (!WaitUnlessClosing(delay)) return;
            }
        }

        /// <summary>Blocks until a batch is due; false when the exporter is closing.</summary>
        private bool WaitUntilBatchDue()
        {
            lock (_signal)
            {
                while (!_closing)
                {
                    TimeSpan wait = TimeUntilDue();
                    if (wait <= TimeSpan.Zero) return true;
                    Monitor.Wait(_signal, wait);
                }
                return false;
            }
        }

        private TimeSpan RetryDelay(int attempt, IngestResponse response)
        {
            TimeSpan? retryAfter = RetryAfter.Parse(response.RetryAfterHeader, DateTime.UtcNow);
            lock (_random)
            {
                return _options.Retry.Delay(attempt, retryAfter, _random.NextDouble());
            }
        }

        /// <summary>
        /// Sleeps <paramref name="delay"/> unless the exporter closes first (then false: the
        /// events stay spooled for the next process).
        /// </summary>
        private bool WaitUnlessClosing(TimeSpan delay)
        {
            DateTime until = DateTime.UtcNow + delay;
            lock (_signal)
            {
                while (!_closing)
                {
                    TimeSpan left = until - DateTime.UtcNow;
                    if (left <= TimeSpan.Zero) return true;
                    Monitor.Wait(_signal, left);
                }
                return false;
            }
        }

        /// <summary>How long until a batch is due (size, age, a flush, or resumed events); zero when due.</summary>
        private TimeSpan TimeUntilDue()
        {
            int pending = _spool.PendingCount;
            if (pending == 0) return TimeSpan.FromMilliseconds(500);
            if (pending >= _options.MaxBatchEvents || _flushWaiters > 0) return TimeSpan.Zero;
            DateTime? oldest = _spool.OldestPendingSpooledAtUtc;
            if (!oldest.HasValue) return TimeSpan.FromMilliseconds(500);
            TimeSpan age = DateTime.UtcNow - oldest.Value;
            TimeSpan left = _options.MaxBatchAge - age;
            return left <= TimeSpan.Zero ? TimeSpan.Zero : left;
        }

        private byte[] Envelope(List<SpooledEvent> batch)
        {
            string header = _spool.Header(batch[0].HeaderId);
            var body = new StringBuilder(header.Length + batch.Count * 200);
            body.Append(header, 0, header.Length - 1).Append(",\"events\":[");
            for (int i = 0; i < batch.Count; i++)
            {
                if (i > 0) body.Append(',');
                body.Append(batch[i].EventJson);
            }
            body.Append("]}");
            return new UTF8Encoding(false).GetBytes(body.ToString());
        }

        /// <summary>Reports rejections and acknowledges the batch; false when the response was unreadable.</summary>
        private bool Settle(List<SpooledEvent> batch, IngestResponse response)
        {
            var rejections = new List<RejectedEvent>();
            long accepted;
            long duplicates;
            try
            {
                var document = (Dictionary<string, object>)Json.Parse(response.Body);
                accepted = (long)(double)document["accepted"];
                duplicates = (long)(double)document["duplicates"];
                object rejectedValue;
                if (document.TryGetValue("rejected", out rejectedValue) && rejectedValue != null)
                {
                    foreach (object item in (List<object>)rejectedValue)
                    {
                        var rejected = (Dictionary<string, object>)item;
                        int index = (int)(double)rejected["index"];
                        object idValue;
                        rejected.TryGetValue("id", out idValue);
                        object errorValue;
                        rejected.TryGetValue("error", out errorValue);
                        string eventJson = index >= 0 && index < batch.Count ? batch[index].EventJson : null;
                        rejections.Add(new RejectedEvent(idValue as string, errorValue as string, eventJson));
                    }
                }
            }
            catch (Exception error)
            {
                if (error is FormatException || error is InvalidCastException || error is KeyNotFoundException
                    || error is NullReferenceException)
                {
                    // A 200 we cannot read (a proxy's page?): send again; ids make it harmless.
                    _log("unreadable 200 response: " + error.Message);
                    return false;
                }
                throw;
            }
            // Counters and callbacks come before the acknowledgement: a Flush that sees the spool
            // empty then sees them too, and a crash in between reports a rejection again after
            // the restart (the service refuses the resent event again) rather than never.
            Interlocked.Add(ref _accepted, accepted);
            Interlocked.Add(ref _duplicates, duplicates);
            Interlocked.Add(ref _rejected, rejections.Count);
            foreach (RejectedEvent rejection in rejections)
            {
                _log(rejection.ToString());
                if (_options.OnRejected != null)
                {
                    try
                    {
                        _options.OnRejected(rejection);
                    }
                    catch (Exception error)
                    {
                        // A failing callback must not kill the sender (or resend the batch).
                        _log("OnRejected callback threw: " + error);
                    }
                }
            }
            var sequences = new List<long>(batch.Count);
            foreach (SpooledEvent spooled in batch) sequences.Add(spooled.Sequence);
            Interlocked.Add(ref _acknowledged, batch.Count);
            _spool.Acknowledge(sequences);
            lock (_signal) Monitor.PulseAll(_signal);
            return true;
        }

        private void Stop(string reason)
        {
            lock (_signal) _stopReason = reason;
            _log("sender stopped: " + reason + " (events stay spooled: " + _spool.PendingCount + ")");
            if (_options.OnStopped != null)
            {
                try
                {
                    _options.OnStopped(reason);
                }
                catch (Exception error)
                {
                    _log("OnStopped callback threw: " + error);
                }
            }
            lock (_signal)
            {
                _stopped = true;
                Monitor.PulseAll(_signal);
            }
        }
    }
}

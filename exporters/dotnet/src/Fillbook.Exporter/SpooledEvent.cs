using System;

namespace Fillbook.Exporter
{
    /// <summary>One event waiting in the spool.</summary>
    public sealed class SpooledEvent
    {
        internal SpooledEvent(long sequence, int headerId, string eventJson, DateTime spooledAtUtc)
        {
            Sequence = sequence;
            HeaderId = headerId;
            EventJson = eventJson;
            SpooledAtUtc = spooledAtUtc;
        }

        /// <summary>Position in the spool; increases with every append, across restarts.</summary>
        public long Sequence { get; private set; }

        /// <summary>Which envelope header (source and run) the event belongs to.</summary>
        public int HeaderId { get; private set; }

        public string EventJson { get; private set; }

        /// <summary>When this process appended it (events resumed from disk: when it was opened).</summary>
        public DateTime SpooledAtUtc { get; private set; }
    }
}

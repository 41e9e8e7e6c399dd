using System;
using NUnit.Framework;

namespace Fillbook.Exporter.Tests
{
    [TestFixture]
    public class RetryPolicyTests
    {
        private static RetryPolicy Policy()
        {
            return new RetryPolicy
            {
                BaseDelay = TimeSpan.FromMilliseconds(250),
                MaxDelay = TimeSpan.FromSeconds(30),
                MaxRetryAfter = TimeSpan.FromMinutes(5),
            };
        }

        [Test]
        public void DoublesFromTheBaseDelayWithEqualJitter()
        {
            RetryPolicy policy = Policy();
            // attempt 0: d = 250 ms, the draw spans [125, 250) ms
            Assert.AreEqual(TimeSpan.FromMilliseconds(125), policy.Delay(0, null, 0.0));
            Assert.AreEqual(TimeSpan.FromTicks(1875000), policy.Delay(0, null, 0.5)); // 187.5 ms
            // attempt 3: d = 2 s
            Assert.AreEqual(TimeSpan.FromSeconds(1), policy.Delay(3, null, 0.0));
            Assert.AreEqual(TimeSpan.FromSeconds(1.5), policy.Delay(3, null, 0.5));
        }

        [Test]
        public void NeverExceedsTheCapNorOverflows()
        {
            RetryPolicy policy = Policy();
            Assert.AreEqual(TimeSpan.FromSeconds(15), policy.Delay(20, null, 0.0));
            Assert.That(policy.Delay(20, null, 0.999999), Is.LessThanOrEqualTo(TimeSpan.FromSeconds(30)));
            Assert.That(policy.Delay(10000, null, 0.999999), Is.LessThanOrEqualTo(TimeSpan.FromSeconds(30)));
            Assert.That(policy.Delay(10000, null, 0.0), Is.EqualTo(TimeSpan.FromSeconds(15)));
        }

        [Test]
        public void GrowsMonotonicallyUntilTheCap()
        {
            RetryPolicy policy = Policy();
            TimeSpan previous = TimeSpan.Zero;
            for (int attempt = 0; attempt < 12; attempt++)
            {
                TimeSpan delay = policy.Delay(attempt, null, 0.5);
                Assert.That(delay, Is.GreaterThanOrEqualTo(previous));
                previous = delay;
            }
        }

        [Test]
        public void HonoursRetryAfterInsteadOfTheBackOff()
        {
            RetryPolicy policy = Policy();
            Assert.AreEqual(TimeSpan.FromSeconds(7), policy.Delay(0, TimeSpan.FromSeconds(7), 0.9));
            Assert.AreEqual(TimeSpan.FromSeconds(7), policy.Delay(9, TimeSpan.FromSeconds(7), 0.1));
            Assert.AreEqual(TimeSpan.Zero, policy.Delay(4, TimeSpan.Zero, 0.3));
        }

        [Test]
        public void CapsAnUnreasonableRetryAfter()
        {
            Assert.AreEqual(TimeSpan.FromMinutes(5), Policy().Delay(0, TimeSpan.FromHours(10), 0.5));
        }

        [Test]
        public void RefusesOutOfRangeArguments()
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => Policy().Delay(-1, null, 0.5));
            Assert.Throws<ArgumentOutOfRangeException>(() => Policy().Delay(0, null, 1.0));
        }
    }

    [TestFixture]
    public class RetryAfterTests
    {
        private static readonly DateTime Now = new DateTime(2015, 10, 21, 7, 27, 0, DateTimeKind.Utc);

        [Test]
        public void ReadsDeltaSeconds()
        {
            Assert.AreEqual(TimeSpan.FromSeconds(120), RetryAfter.Parse("120", Now));
            Assert.AreEqual(TimeSpan.FromSeconds(3), RetryAfter.Parse(" 3 ", Now));
            Assert.AreEqual(TimeSpan.Zero, RetryAfter.Parse("0", Now));
        }

        [Test]
        public void ReadsAnHttpDateRelativeToNow()
        {
            Assert.AreEqual(TimeSpan.FromSeconds(60), RetryAfter.Parse("Wed, 21 Oct 2015 07:28:00 GMT", Now));
            Assert.AreEqual(TimeSpan.Zero, RetryAfter.Parse("Wed, 21 Oct 2015 07:00:00 GMT", Now));
        }

        [Test]
        public void IgnoresAbsentOrUnreadableValues()
        {
            Assert.IsNull(RetryAfter.Parse(null, Now));
            Assert.IsNull(RetryAfter.Parse("", Now));
            Assert.IsNull(RetryAfter.Parse("soon", Now));
            Assert.IsNull(RetryAfter.Parse("-5", Now));
            Assert.IsNull(RetryAfter.Parse("1.5", Now));
        }
    }
}

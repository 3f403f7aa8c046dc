namespace Aavae.Data;

/// <summary>
/// numpy's legacy <c>np.random.seed(n)</c> / <c>np.random.shuffle</c>: the Mersenne Twister
/// MT19937 seeded with one 32-bit integer, and the Fisher-Yates shuffle that draws each swap
/// partner by masked rejection (numpy's <c>random_interval</c>). The reference's ImageNet data
/// set chooses its validation images with it, so this reproduces that choice exactly.
/// </summary>
public sealed class NumpyRandomState
{
    private const int N = 624, M = 397;
    private readonly uint[] mt = new uint[N];
    private int position;

    public NumpyRandomState(uint seed)
    {
        mt[0] = seed;
        for (int i = 1; i < N; i++) mt[i] = 1812433253u * (mt[i - 1] ^ (mt[i - 1] >> 30)) + (uint)i;
        position = N;
    }

    public uint NextUInt32()
    {
        if (position >= N) Twist();
        uint y = mt[position++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680u;
        y ^= (y << 15) & 0xefc60000u;
        return y ^ (y >> 18);
    }

    /// <summary>A uniform integer in [0, <paramref name="max"/>] (numpy's <c>random_interval</c>, for max below 2^32).</summary>
    public uint Interval(uint max)
    {
        if (max == 0) return 0;
        uint mask = max;
        mask |= mask >> 1; mask |= mask >> 2; mask |= mask >> 4; mask |= mask >> 8; mask |= mask >> 16;
        uint value;
        while ((value = NextUInt32() & mask) > max) { }
        return value;
    }

    /// <summary>Shuffles in place as <c>np.random.shuffle</c> does: from the last element down, each swapped with one at or before it.</summary>
    public void Shuffle<T>(IList<T> items)
    {
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = (int)Interval((uint)i);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    private void Twist()
    {
        for (int i = 0; i < N; i++)
        {
            uint y = (mt[i] & 0x80000000u) | (mt[(i + 1) % N] & 0x7fffffffu);
            mt[i] = mt[(i + M) % N] ^ (y >> 1) ^ ((y & 1) != 0 ? 0x9908b0dfu : 0u);
        }
        position = 0;
    }
}

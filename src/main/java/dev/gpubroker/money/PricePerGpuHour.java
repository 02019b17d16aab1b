package dev.gpubroker.money;

/**
 * A price for one GPU for one hour, in USDC micro-units. Cost over a duration is rounded up to the next micro-unit
 * so that a quote's total always covers the price it states.
 */
public record PricePerGpuHour(long microsPerGpuHour) implements Comparable<PricePerGpuHour> {

    public PricePerGpuHour {
        if (microsPerGpuHour <= 0) {
            throw new IllegalArgumentException("a price per GPU-hour is positive, got " + microsPerGpuHour + " micro-units");
        }
    }

    public static PricePerGpuHour parse(String decimal) {
        return new PricePerGpuHour(Usdc.parse(decimal).micros());
    }

    /** The cost of {@code gpuCount} GPUs for {@code minutes} minutes, rounded up to the micro-unit. */
    public Usdc costFor(int gpuCount, int minutes) {
        if (gpuCount <= 0 || minutes <= 0) {
            throw new IllegalArgumentException("gpuCount and minutes are positive, got " + gpuCount + " and " + minutes);
        }
        long microMinutes = Math.multiplyExact(Math.multiplyExact(microsPerGpuHour, (long) gpuCount), (long) minutes);
        return Usdc.ofMicros(Math.ceilDiv(microMinutes, 60L));
    }

    public String toDecimalString() {
        return Usdc.ofMicros(microsPerGpuHour).toDecimalString();
    }

    @Override
    public int compareTo(PricePerGpuHour other) {
        return Long.compare(microsPerGpuHour, other.microsPerGpuHour);
    }
}

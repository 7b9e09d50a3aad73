/** cpuslab's locked front end: pure Java, every OS; {@code io.cpuslab} finds it as a service. */
module io.cpuslab.fallback {
    requires io.cpuslab;

    provides io.cpuslab.core.SlabFrontEndProvider with io.cpuslab.fallback.LockedFrontEndProvider;
}

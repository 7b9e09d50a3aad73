/**
 * cpuslab's rseq front end and its native library; {@code io.cpuslab} finds it as a service. On the
 * module path it needs {@code --enable-native-access=io.cpuslab.rseq} (with {@code io.cpuslab}).
 */
module io.cpuslab.rseq {
    requires io.cpuslab;

    provides io.cpuslab.core.SlabFrontEndProvider with io.cpuslab.rseq.RseqFrontEndProvider;
}

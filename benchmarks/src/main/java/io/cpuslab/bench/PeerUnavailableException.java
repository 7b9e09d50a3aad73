package io.cpuslab.bench;

/**
 * A peer cannot run on this machine (library not installed, front end refused, ...); the message is
 * the reason, printed where the peer is skipped.
 *
 * <pre>{@code
 * try { Peers.open("mimalloc"); } catch (PeerUnavailableException e) { System.out.println("skipped: " + e.getMessage()); }
 * }</pre>
 */
public final class PeerUnavailableException extends RuntimeException {
    public PeerUnavailableException(String reason) {
        super(reason);
    }
}

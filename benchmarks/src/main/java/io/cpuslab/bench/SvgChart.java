package io.cpuslab.bench;

import io.cpuslab.core.Bytes;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The run as a hand-written SVG: one panel of horizontal bars per workload (ns per operation on a
 * logarithmic axis, since peers differ by up to four orders of magnitude; the floor as a dashed line
 * in single-thread pair panels), then one panel of RSS growth per memory phase (linear). cpuslab's
 * bars are orange, the others blue-grey; every bar carries its number.
 *
 * <pre>{@code
 * Files.writeString(Path.of("quick.svg"), SvgChart.render(results));
 * }</pre>
 */
public final class SvgChart {
    private static final int WIDTH = 960;
    private static final int LABEL_WIDTH = 170;
    private static final int VALUE_WIDTH = 130;
    private static final int BAR_HEIGHT = 16;
    private static final int BAR_GAP = 4;
    private static final int TITLE_HEIGHT = 28;
    private static final int PANEL_GAP = 18;
    private static final int HEADER_HEIGHT = 54;
    private static final String CPUSLAB_COLOR = "#e8710a";
    private static final String PEER_COLOR = "#6b8bb5";
    private static final String FLOOR_COLOR = "#c0392b";

    private SvgChart() {
    }

    /** One bar: a peer's value, its text, and whether it is cpuslab. */
    private record Bar(String peer, double value, String text) {
    }

    public static String render(Results r) {
        StringBuilder body = new StringBuilder();
        int y = HEADER_HEIGHT;
        Outcome floor = r.floor();
        for (Workload w : r.workloads()) {
            if (!w.perPeer()) {
                continue;
            }
            List<Bar> bars = new ArrayList<>();
            for (String peer : r.peers()) {
                Outcome o = r.outcome(w, peer);
                if (o != null && o.hasNumber()) {
                    bars.add(new Bar(peer, o.nanos(), String.format(Locale.ROOT, "%.3g ns", o.nanos())));
                }
            }
            boolean showFloor = floor != null && floor.hasNumber() && w.key().matches("pair-\\d+(-sized)?");
            y = panel(body, y, w.label() + " — ns per operation (log scale), lower is better", bars, true,
                    showFloor ? floor.nanos() : Double.NaN);
        }
        List<String> phases = r.footprints().values().stream().filter(f -> f.failure() == null).findFirst()
                .map(f -> f.phases().stream().map(Footprint.Phase::label).toList()).orElse(List.of());
        for (int i = 0; i < phases.size(); i++) {
            List<Bar> bars = new ArrayList<>();
            for (Footprint.Report f : r.footprints().values()) {
                if (f.failure() == null) {
                    long growth = Math.max(0, f.phases().get(i).rssGrowthBytes());
                    bars.add(new Bar(f.peer(), growth, "+" + Bytes.format(f.phases().get(i).rssGrowthBytes())));
                }
            }
            y = panel(body, y, "RSS growth with " + phases.get(i) + " alive after their work — lower is better", bars, false, Double.NaN);
        }
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + WIDTH + "\" height=\"" + y
                + "\" font-family=\"sans-serif\" font-size=\"12\">\n"
                + "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
                + text(10, 20, "cpuslab bench — " + r.settings().name(), "font-size=\"15\" font-weight=\"bold\"")
                + text(10, 40, r.machine(), "fill=\"#444\"")
                + body + "</svg>\n";
    }

    private static int panel(StringBuilder sb, int top, String title, List<Bar> bars, boolean log, double floor) {
        sb.append(text(10, top + 18, title, "font-weight=\"bold\""));
        int y = top + TITLE_HEIGHT;
        if (bars.isEmpty()) {
            sb.append(text(LABEL_WIDTH, y + 12, "no numbers", "fill=\"#888\""));
            return y + BAR_HEIGHT + PANEL_GAP;
        }
        double max = bars.stream().mapToDouble(Bar::value).max().orElse(1);
        double min = bars.stream().mapToDouble(Bar::value).filter(v -> v > 0).min().orElse(1);
        if (!Double.isNaN(floor)) {
            min = Math.min(min, floor);
        }
        double low = log ? Math.pow(10, Math.floor(Math.log10(min))) / 2 : 0;   // half a decade below the least
        double high = log ? Math.pow(10, Math.ceil(Math.log10(max))) : Math.max(max, 1);
        int plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
        for (Bar bar : bars) {
            int length = (int) Math.max(1, Math.round(plot * scale(bar.value(), low, high, log)));
            String color = bar.peer().startsWith("cpuslab") ? CPUSLAB_COLOR : PEER_COLOR;
            sb.append(text(LABEL_WIDTH - 6, y + 12, bar.peer(), "text-anchor=\"end\""));
            sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>%n",
                    LABEL_WIDTH, y, length, BAR_HEIGHT, color));
            sb.append(text(LABEL_WIDTH + length + 4, y + 12, bar.text(), ""));
            y += BAR_HEIGHT + BAR_GAP;
        }
        if (!Double.isNaN(floor)) {
            int x = LABEL_WIDTH + (int) Math.round(plot * scale(floor, low, high, log));
            sb.append(String.format(Locale.ROOT,
                    "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-dasharray=\"4 3\"/>%n",
                    x, top + TITLE_HEIGHT - 4, x, y, FLOOR_COLOR));
            sb.append(text(x + 3, y + 10, String.format(Locale.ROOT, "floor %.3g ns", floor), "fill=\"" + FLOOR_COLOR + "\""));
            y += BAR_HEIGHT;
        }
        return y + PANEL_GAP;
    }

    private static double scale(double value, double low, double high, boolean log) {
        double f = log ? (Math.log10(Math.max(value, low)) - Math.log10(low)) / (Math.log10(high) - Math.log10(low))
                : value / high;
        return Math.min(1, Math.max(0, f));
    }

    private static String text(int x, int y, String s, String attributes) {
        return "<text x=\"" + x + "\" y=\"" + y + "\" " + attributes + ">" + escape(s) + "</text>\n";
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}

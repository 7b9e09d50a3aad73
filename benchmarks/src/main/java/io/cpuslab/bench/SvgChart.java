package io.cpuslab.bench;

import io.cpuslab.core.Bytes;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The run as a hand-written SVG: one panel of horizontal bars per workload (ns per operation on a
 * logarithmic axis, since peers differ by up to four orders of magnitude; the floor as a dashed line
 * in single-thread pair panels), then one panel of RSS growth per memory phase (linear). cpuslab's
 * bars are orange, the others blue-grey; every bar carries its number, and a measured one its error
 * as a whisker (JMH's 99.9% confidence interval), so a reader sees which differences are noise.
 *
 * <pre>{@code
 * Files.writeString(Path.of("quick.svg"), SvgChart.render(results));
 * }</pre>
 */
public final class SvgChart {
    private static final int WIDTH = 960;
    private static final int LABEL_WIDTH = 170;
    private static final int VALUE_WIDTH = 170;
    private static final int BAR_HEIGHT = 16;
    private static final int BAR_GAP = 4;
    private static final int TITLE_HEIGHT = 28;
    private static final int PANEL_GAP = 18;
    private static final int HEADER_HEIGHT = 70;
    private static final int CAP = 4;   // half the height of a whisker's end
    private static final String CPUSLAB_COLOR = "#e8710a";
    private static final String PEER_COLOR = "#6b8bb5";
    private static final String FLOOR_COLOR = "#c0392b";
    private static final String ERROR_COLOR = "#222";

    private SvgChart() {
    }

    /** One bar: a peer's value, its error (NaN for none) and its text. */
    private record Bar(String peer, double value, double error, String text) {
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
                    String error = Double.isNaN(o.errorNanos()) ? "" : String.format(Locale.ROOT, " ± %.2g", o.errorNanos());
                    bars.add(new Bar(peer, o.nanos(), o.errorNanos(), String.format(Locale.ROOT, "%.3g", o.nanos()) + error + " ns"));
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
                    bars.add(new Bar(f.peer(), growth, Double.NaN, "+" + Bytes.format(f.phases().get(i).rssGrowthBytes())));
                }
            }
            y = panel(body, y, "RSS growth with " + phases.get(i) + " alive after their work — lower is better", bars, false, Double.NaN);
        }
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + WIDTH + "\" height=\"" + y
                + "\" font-family=\"sans-serif\" font-size=\"12\">\n"
                + "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
                + text(10, 20, "cpuslab bench — " + r.settings().name(), "font-size=\"15\" font-weight=\"bold\"")
                + text(10, 40, r.machine(), "fill=\"#444\"")
                + text(10, 58, "whiskers: ± error, JMH's 99.9% confidence interval", "fill=\"#444\"")
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
            int end = length;
            if (!Double.isNaN(bar.error())) {
                end = Math.max(end, whisker(sb, y + BAR_HEIGHT / 2, bar, plot, low, high, log));
            }
            sb.append(text(LABEL_WIDTH + end + 4, y + 12, bar.text(), ""));
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

    /**
     * Draws the bar's value ± error as a line with an end at each side; an end beyond the axis is cut at
     * it and drawn without its cap. Returns where the line ends, in pixels from the axis's start.
     */
    private static int whisker(StringBuilder sb, int y, Bar bar, int plot, double low, double high, boolean log) {
        double from = bar.value() - bar.error();
        double to = bar.value() + bar.error();
        int x1 = (int) Math.round(plot * scale(from, low, high, log));
        int x2 = (int) Math.round(plot * scale(to, low, high, log));
        StringBuilder path = new StringBuilder(String.format(Locale.ROOT, "M%d %dH%d", LABEL_WIDTH + x1, y, LABEL_WIDTH + x2));
        if (from > low) {
            path.append(String.format(Locale.ROOT, "M%d %dv%d", LABEL_WIDTH + x1, y - CAP, 2 * CAP));
        }
        if (to < high) {
            path.append(String.format(Locale.ROOT, "M%d %dv%d", LABEL_WIDTH + x2, y - CAP, 2 * CAP));
        }
        sb.append(String.format(Locale.ROOT, "<path class=\"error\" d=\"%s\" stroke=\"%s\" stroke-width=\"1.5\" fill=\"none\"/>%n",
                path, ERROR_COLOR));
        return x2;
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

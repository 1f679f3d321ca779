package dev.podserve.backend.cuda;

import java.util.ArrayList;
import java.util.List;

import dev.podserve.model.DummyWeights;
import dev.podserve.model.LayerTensor;
import dev.podserve.model.LayerWeights;
import dev.podserve.model.ModelConfig;
import dev.podserve.model.ModelWeights;

/**
 * The model's weights on the device as bf16, in the row-major layouts of {@link ModelWeights}
 * ({@code [out][in]} matrices, q/k/v and gate/up fused): uploaded once from the fp32 host arrays,
 * or drawn on the device by {@link DummyWeights}' rule, bit for bit the bf16 rounding of what the
 * host generator makes, without the host ever holding them.
 */
final class CudaWeights {

    /** Device addresses of one layer's tensors; qkvBias is 0 where the architecture has none. */
    record Layer(long inputNorm, long qkv, long qkvBias, long wo, long postAttnNorm, long gateUp, long down) {
    }

    /** bf16 [vocab][hidden]. */
    final long embed;
    /** bf16 [vocab][hidden]; the embed address itself when the config ties them. */
    final long lmHead;
    /** bf16 [hidden]. */
    final long finalNorm;
    final List<Layer> layers;

    /** Bytes {@link #upload} will carve. */
    static long bytes(ModelConfig cfg) {
        long h = cfg.hiddenSize();
        long table = DeviceArena.aligned(2L * cfg.vocabSize() * h);
        long layer = DeviceArena.aligned(2 * h) * 2 + DeviceArena.aligned(2L * (cfg.qDim() + 2L * cfg.kvDim()) * h)
                + DeviceArena.aligned(2L * h * cfg.qDim()) + DeviceArena.aligned(4L * cfg.intermediateSize() * h)
                + DeviceArena.aligned(2L * h * cfg.intermediateSize())
                + (cfg.qkvBias() ? DeviceArena.aligned(2L * (cfg.qDim() + 2L * cfg.kvDim())) : 0);
        return table * (cfg.tieWordEmbeddings() ? 1 : 2) + DeviceArena.aligned(2 * h) + layer * cfg.numLayers();
    }

    CudaWeights(ModelWeights w, DeviceArena arena, DeviceCopies copies) {
        ModelConfig cfg = w.config();
        this.embed = upload(arena, copies, "embed_tokens", w.embed());
        this.lmHead = cfg.tieWordEmbeddings() ? embed : upload(arena, copies, "lm_head", w.lmHead());
        this.finalNorm = upload(arena, copies, "norm", w.finalNorm());
        List<Layer> ls = new ArrayList<>();
        for (int i = 0; i < cfg.numLayers(); i++) {
            LayerWeights l = w.layer(i);
            String p = "layers." + i + ".";
            ls.add(new Layer(upload(arena, copies, p + "input_layernorm", l.inputNorm()),
                    upload(arena, copies, p + "qkv_proj", l.qkv()),
                    l.qkvBias() == null ? 0 : upload(arena, copies, p + "qkv_proj.bias", l.qkvBias()),
                    upload(arena, copies, p + "o_proj", l.wo()),
                    upload(arena, copies, p + "post_attention_layernorm", l.postAttnNorm()),
                    upload(arena, copies, p + "gate_up_proj", l.gateUp()),
                    upload(arena, copies, p + "down_proj", l.down())));
        }
        this.layers = List.copyOf(ls);
    }

    /** The dummy model of {@code seed}, generated on the device (see {@link DummyWeights#draws}). */
    CudaWeights(ModelConfig cfg, long seed, DeviceArena arena, LayerKernels kernels) {
        long h = cfg.hiddenSize();
        long table = (long) cfg.vocabSize() * h;
        this.embed = arena.carve("embed_tokens", 2 * table).address();
        this.lmHead = cfg.tieWordEmbeddings() ? embed : arena.carve("lm_head", 2 * table).address();
        this.finalNorm = arena.carve("norm", 2 * h).address();
        List<Layer> ls = new ArrayList<>();
        for (int i = 0; i < cfg.numLayers(); i++) {
            String p = "layers." + i + ".";
            // The same carving order and sizes as the upload path, so bytes(cfg) holds for both.
            long inputNorm = arena.carve(p + "input_layernorm", 2 * h).address();
            long qkv = arena.carve(p + "qkv_proj", 2L * (cfg.qDim() + 2L * cfg.kvDim()) * h).address();
            long qkvBias = cfg.qkvBias() ? arena.carve(p + "qkv_proj.bias", 2L * (cfg.qDim() + 2L * cfg.kvDim())).address() : 0;
            long wo = arena.carve(p + "o_proj", 2L * h * cfg.qDim()).address();
            long postNorm = arena.carve(p + "post_attention_layernorm", 2 * h).address();
            long gateUp = arena.carve(p + "gate_up_proj", 4L * cfg.intermediateSize() * h).address();
            long down = arena.carve(p + "down_proj", 2L * h * cfg.intermediateSize()).address();
            ls.add(new Layer(inputNorm, qkv, qkvBias, wo, postNorm, gateUp, down));
        }
        this.layers = List.copyOf(ls);
        for (DummyWeights.Draw d : DummyWeights.draws(cfg)) {
            long base = switch (d.tensor()) {
                case "embed_tokens" -> embed;
                case "lm_head" -> lmHead;
                case "norm" -> finalNorm;
                default -> layerArray(layers.get(d.layer()), d.layerTensor());
            };
            kernels.dummyFill(base + 2L * d.offset(), d.length(), DummyWeights.tensorKey(seed, d.tensorId()), d.center(),
                    d.halfWidth());
        }
    }

    /** The device array holding a layer tensor (fused arrays shared, as {@link LayerTensor#array}). */
    private static long layerArray(Layer l, LayerTensor t) {
        return switch (t) {
            case INPUT_NORM -> l.inputNorm();
            case WQ, WK, WV -> l.qkv();
            case WO -> l.wo();
            case POST_ATTN_NORM -> l.postAttnNorm();
            case GATE, UP -> l.gateUp();
            case DOWN -> l.down();
            case Q_BIAS, K_BIAS, V_BIAS -> l.qkvBias();
        };
    }

    private static long upload(DeviceArena arena, DeviceCopies copies, String name, float[] data) {
        DeviceArena.Region r = arena.carve(name, 2L * data.length);
        copies.bf16(r.address(), data);
        return r.address();
    }
}

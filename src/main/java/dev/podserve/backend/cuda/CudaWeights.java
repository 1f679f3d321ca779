package dev.podserve.backend.cuda;

import java.util.ArrayList;
import java.util.List;

import dev.podserve.model.LayerWeights;
import dev.podserve.model.ModelConfig;
import dev.podserve.model.ModelWeights;

/**
 * The model's weights on the device as bf16, uploaded once from the fp32 {@link ModelWeights}, in
 * the same row-major layouts ({@code [out][in]} matrices, q/k/v and gate/up fused).
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

    private static long upload(DeviceArena arena, DeviceCopies copies, String name, float[] data) {
        DeviceArena.Region r = arena.carve(name, 2L * data.length);
        copies.bf16(r.address(), data);
        return r.address();
    }
}

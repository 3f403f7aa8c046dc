using Aavae.Diagnostics;

namespace Aavae.Tests.Diagnostics;

public class OneDnnProbeTests
{
    [Fact]
    public void TheImplementationOfEachDirectionOfABf16ConvolutionIsReadFromTheVerboseLog()
    {
        // Lines as oneDNN 3 prints them (libtorch 2.10, a Xeon with AMX), with a float32 convolution and a reorder among them.
        const string log = """
            onednn_verbose,v1,info,oneDNN v3.7.1 (commit 8d263e693366ef8db40acc569cc7d8edf644556d)
            onednn_verbose,v1,primitive,exec,cpu,reorder,jit:uni,undef,src:f32::blocked:abcd::f0 dst:bf16::blocked:acdb::f0,,,8x16x8x8,0.01
            onednn_verbose,v1,primitive,exec,cpu,convolution,brg_conv_fwd:avx512_core,forward_training,src:f32::blocked:acdb::f0 wei:f32:a:blocked:Acdb16a::f0,,alg:convolution_direct,mb8_ic16oc16_ih8oh8kh3,0.05
            onednn_verbose,v1,primitive,exec,cpu,convolution,brg_conv_fwd:avx10_1_512_amx,forward_training,src:bf16::blocked:acdb::f0 wei:bf16:a:blocked:AcdB16a2b::f0,attr-scratchpad:user,alg:convolution_direct,mb8_ic16oc16_ih8oh8kh3,0.05
            onednn_verbose,v1,primitive,exec,cpu,convolution,brg_conv_bwd:avx10_1_512_amx+brg_conv_fwd:avx10_1_512_amx,backward_data,src:bf16::blocked:acdb::f0,,alg:convolution_direct,mb8,0.04
            onednn_verbose,v1,primitive,exec,cpu,convolution,brgconv_bwd_w:avx10_1_512_amx,backward_weights,src:bf16::blocked:acdb::f0,,alg:convolution_direct,mb8,0.06
            """;
        var found = OneDnnProbe.Implementations(log);
        Assert.Equal(new Dictionary<string, string>
        {
            ["forward"] = "brg_conv_fwd:avx10_1_512_amx",
            ["backward-data"] = "brg_conv_bwd:avx10_1_512_amx+brg_conv_fwd:avx10_1_512_amx",
            ["backward-weights"] = "brgconv_bwd_w:avx10_1_512_amx",
        }, found);
    }
}

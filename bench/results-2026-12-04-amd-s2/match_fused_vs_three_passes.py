# The fused kernel's lab lines against the sum of the three passes' lines for the same launch (kernel lab, isbi).
# python3 match_fused_vs_three_passes.py lab_isbi_winograd_fused_all_channels.jsonl (run beside the *_unfused files)
import json,os,statistics,sys
here=os.path.dirname(os.path.abspath(__file__))
L=lambda f:[json.loads(l) for l in open(f) if l.startswith('{')]
fu=L(sys.argv[1]); inp=L(os.path.join(here,'lab_isbi_winograd_input_vec4_unfused.jsonl')); ge=L(os.path.join(here,'lab_isbi_winograd_gemm_unfused.jsonl')); ou=L(os.path.join(here,'lab_isbi_winograd_output_vec4_unfused.jsonl'))
def find(recs,pred):
  m=[r['median_ms'] for r in recs if pred(r['params'])]
  return statistics.median(m) if m else None
tot_f=tot_3=0
for r in fu:
  p=r['params']; t4=p['nn']*p['bt']*p['tg']
  i=find(inp,lambda q:all(q[k]==p[k] for k in ['cin','h','w','nn','ty0','bt','ph','pw']))
  g=find(ge,lambda q:q['cin']==p['cin'] and q['cp']==p['cp'] and q['t4']==t4)
  o=find(ou,lambda q:all(q[k]==p[k] for k in ['cout','oh','ow','nn','ty0','bt']) and q['cp']==p['cp'])
  three=None if None in (i,g,o) else i+g+o
  print(f"{p['nn']}x{p['cin']}->{p['cout']}x{p['oh']} rows {p['ty0']}+{p['bt']} calls {r['calls']}: fused {r['median_ms']:.2f}  3-pass {three and round(three,2)} ({i and round(i,2)}, {g and round(g,2)}, {o and round(o,2)})")
  if three: tot_f+=r['median_ms']*r['calls']; tot_3+=three*r['calls']
print('total fused',round(tot_f,1),'3-pass',round(tot_3,1))

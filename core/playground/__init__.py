"""GAN playground: tiny GANs (and a tiny VAE) trained live on 2D point clouds, in the spirit of
poloclub's GAN Lab (Kahng et al. 2018).

- `data`: the 2D datasets as seeded samplers, each with a reference (its modes) for coverage;
- `nets`: MLP generator/discriminator and a VAE, from frozen configs;
- `losses`: the six objectives by name (`loss_D`, `loss_G`);
- `settings`: a run's checked hyper-parameters and the presets built on the losses;
- `coverage`: how many modes the generated points cover, and how many land on the data;
- `session`: one run (nets, optimisers, history) with `step(n)` and `snapshot()`;
- `compute`: the one thread all runs compute on, with one torch intra-op thread;
- `manager`: the runs of many visitors on a bounded CPU budget;
- `render`: a snapshot drawn as one picture (PIL only).

Everything here is plain PyTorch/NumPy/PIL; nothing imports gradio.
"""

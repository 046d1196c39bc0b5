"""Lecture mode (issue #18, part 3): a switch in the header (or `?lecture=1` in the address) that
shows, at the top of each tab, the objective its model was trained with (LaTeX, rendered by the
KaTeX that Gradio ships: nothing loads from the internet), three lines on what to look at, the
papers, and pre-computed examples; it also sets large fonts for a projector.

Nothing here runs on the server once the page is built: the panels are in every page, hidden by CSS
unless the page's root element has the class `lab-lecture`; the switch toggles that class in the
browser (a JavaScript-only event: no request, no queue, nothing for a hostile client to call), and
the page's load reads `?lecture=` the same way. The examples are small WebP files made by this
project's own models (`python -m demos.assets.lecture.make`), shown as they are, so a live demo
never waits in the queue for them; their seeds are in the captions, to redo them live.

The formulas use the project's names (real_A, fake_B, G_A, D_A, ...) and the weights the registry
and the shipped checkpoints actually use (core/registry.py, core/train/tasks/, checkpoints/*/config.json).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

ASSETS = Path(__file__).resolve().parent / "assets" / "lecture"
MANIFEST = ASSETS / "examples.json"
ROOT_CLASS = "lab-lecture"  # on <html> while lecture mode is on
PARAM = "lecture"  # ?lecture=1 turns it on (also true, yes, on); anything else leaves it off
LATEX = [{"left": "$$", "right": "$$", "display": True}, {"left": "$", "right": "$", "display": False}]


@dataclass(frozen=True)
class Paper:
    authors: str
    year: int
    title: str
    venue: str
    arxiv: str  # the arXiv id, e.g. "1611.07004"

    def markdown(self) -> str:
        return (f"{self.authors} ({self.year}). *{self.title}*. {self.venue}. "
                f"[arXiv:{self.arxiv}](https://arxiv.org/abs/{self.arxiv})")


@dataclass(frozen=True)
class Lecture:
    title: str
    objective: tuple[str, ...]  # display formulas (LaTeX without the $$), shown one under the other
    notes: str  # a paragraph under the formulas: what the symbols are here (Markdown, inline $...$)
    look: tuple[str, str, str]  # three lines: what to look at in the tab
    papers: tuple[Paper, ...]


GOODFELLOW = Paper("Goodfellow, Pouget-Abadie, Mirza, Xu, Warde-Farley, Ozair, Courville & Bengio", 2014,
                   "Generative Adversarial Nets", "NeurIPS 2014", "1406.2661")
DCGAN = Paper("Radford, Metz & Chintala", 2016, "Unsupervised Representation Learning with Deep Convolutional "
              "Generative Adversarial Networks", "ICLR 2016", "1511.06434")
WHITE = Paper("White", 2016, "Sampling Generative Networks", "arXiv preprint", "1609.04468")
LARSEN = Paper("Larsen, Sønderby, Larochelle & Winther", 2016, "Autoencoding beyond Pixels using a Learned "
               "Similarity Metric (VAE-GAN)", "ICML 2016", "1512.09300")
MIYATO = Paper("Miyato, Kataoka, Koyama & Yoshida", 2018, "Spectral Normalization for Generative Adversarial "
               "Networks", "ICLR 2018", "1802.05957")

# tab key (app.TABS) -> its lecture. The admin tab has none; a "coming" tab gets its entry with its model.
LECTURES: dict[str, Lecture] = {
    "sketch2photo": Lecture(
        title="pix2pix: a conditional GAN plus λ·L1",
        objective=(
            r"G^{*}=\arg\min_{G}\max_{D}\;\mathcal{L}_{cGAN}(G,D)+\lambda_{L1}\,\mathcal{L}_{L1}(G),"
            r"\qquad \lambda_{L1}=100",
            r"\mathcal{L}_{cGAN}=\mathbb{E}\big[\log D(\mathrm{real}_A,\mathrm{real}_B)\big]"
            r"+\mathbb{E}\big[\log\big(1-D(\mathrm{real}_A,\mathrm{fake}_B)\big)\big]",
            r"\mathcal{L}_{L1}=\mathbb{E}\,\big\lVert \mathrm{real}_B-\mathrm{fake}_B\big\rVert_1,"
            r"\qquad \mathrm{fake}_B=G(\mathrm{real}_A)",
        ),
        notes=(r"$\mathrm{real}_A$: the edge map, $\mathrm{real}_B$: its photo. $D$ is a PatchGAN: its "
               r"$14\times14$ verdicts, one per $70\times70$ patch, are averaged. $G$ maximises "
               r"$\log D(\mathrm{real}_A,\mathrm{fake}_B)$ in practice (the non-saturating form). The loss switch's "
               r"ablations: $\lambda_{gan}=0$ (L1 only) and $\lambda_{L1}=0$ (cGAN only)."),
        look=("L1 alone is blurry and grey: the mean of the plausible photos. The cGAN alone is sharp but strays "
              "from the drawing. Together: sharp and faithful (the loss switch, or the examples).",
              "D judges patches, not the whole picture: texture and edges come out sharp, while the overall shape "
              "comes from the drawing and the L1 term.",
              "Leave an outline open or scribble inside: the model draws what edge maps of shoes and handbags "
              "looked like, not what you meant."),
        papers=(Paper("Isola, Zhu, Zhou & Efros", 2017, "Image-to-Image Translation with Conditional Adversarial "
                      "Networks", "CVPR 2017", "1611.07004"),),
    ),
    "horse2zebra": Lecture(
        title="CycleGAN: two GANs, a cycle and an identity term",
        objective=(
            r"\mathcal{L}=\mathcal{L}_{GAN}(G_A,D_A)+\mathcal{L}_{GAN}(G_B,D_B)+\lambda\,\mathcal{L}_{cyc}"
            r"+0.5\,\lambda\,\mathcal{L}_{idt},\qquad \lambda=10",
            r"\mathcal{L}_{GAN}:\quad \min_{D_A}\ \mathbb{E}\big[(D_A(\mathrm{real}_B)-1)^2\big]"
            r"+\mathbb{E}\big[D_A(\mathrm{fake}_B)^2\big],\qquad"
            r"\min_{G_A}\ \mathbb{E}\big[(D_A(\mathrm{fake}_B)-1)^2\big]",
            r"\mathcal{L}_{cyc}=\mathbb{E}\,\lVert G_B(G_A(\mathrm{real}_A))-\mathrm{real}_A\rVert_1"
            r"+\mathbb{E}\,\lVert G_A(G_B(\mathrm{real}_B))-\mathrm{real}_B\rVert_1",
            r"\mathcal{L}_{idt}=\mathbb{E}\,\lVert G_A(\mathrm{real}_B)-\mathrm{real}_B\rVert_1"
            r"+\mathbb{E}\,\lVert G_B(\mathrm{real}_A)-\mathrm{real}_A\rVert_1",
        ),
        notes=(r"A: horses, B: zebras. $G_A$: A → B, so $\mathrm{fake}_B=G_A(\mathrm{real}_A)$; $G_B$: B → A. "
               r"$D_A$ judges domain B, $D_B$ domain A (the official code's names). Least squares (LSGAN) replace "
               r"the log losses, as in the paper; $(G_B,D_B)$ play the same game with A and B swapped. D sees a pool "
               r"of 50 past fakes."),
        look=(r"*Back again*: the cycle term asks $G_B(G_A(x))=x$, so pose and layout survive; the status line "
              "gives how close it comes (dB).",
              "*What changed*: nothing ties the output to the input pixel by pixel, so the background changes too "
              "(a browner meadow), not only the coat.",
              "*Identity*: the other generator on a photo already in its domain should change little (the identity "
              r"term, at $0.5\,\lambda$, keeps colours)."),
        papers=(Paper("Zhu, Park, Isola & Efros", 2017, "Unpaired Image-to-Image Translation using Cycle-Consistent "
                      "Adversarial Networks", "ICCV 2017", "1703.10593"),
                Paper("Mao, Li, Xie, Lau, Wang & Smolley", 2017, "Least Squares Generative Adversarial Networks",
                      "ICCV 2017", "1611.04076")),
    ),
    "latent_walk": Lecture(
        title="DCGAN: the minimax game, and walking its latent space",
        objective=(
            r"\min_G\max_D\ \mathbb{E}_{x\sim p_{data}}\big[\log D(x)\big]"
            r"+\mathbb{E}_{z\sim\mathcal{N}(0,I)}\big[\log\big(1-D(G(z))\big)\big],\qquad z\in\mathbb{R}^{100}",
            r"\text{shipped (hinge):}\quad \mathcal{L}_D=\mathbb{E}\big[\max(0,1-D(x))\big]"
            r"+\mathbb{E}\big[\max(0,1+D(G(z)))\big],\qquad \mathcal{L}_G=-\mathbb{E}\big[D(G(z))\big]",
            r"\mathrm{slerp}(z_0,z_1;t)=\frac{\sin((1-t)\,\Omega)}{\sin\Omega}\,z_0"
            r"+\frac{\sin(t\,\Omega)}{\sin\Omega}\,z_1,\qquad "
            r"\cos\Omega=\frac{z_0\cdot z_1}{\lVert z_0\rVert\,\lVert z_1\rVert}",
            r"\text{v2 (VAE-GAN):}\ \mathcal{L}_{E,G}=10\,\lVert x-G(z_x)\rVert_1"
            r"+20\,\lVert D_l(x)-D_l(G(z_x))\rVert_1+0.005\,\mathrm{KL}\big(q(z\mid x)\,\Vert\,"
            r"\mathcal{N}(0,I)\big)+\mathcal{L}_G,\qquad z_x\sim q(z\mid x)=E(x),\ z\in\mathbb{R}^{128}",
            r"\text{your photo:}\quad u^{*}=\arg\min_u\ \lVert G(P(u))-x\rVert_1+0.1\,"
            r"\tfrac{\lVert u\rVert^2}{128},\qquad \text{40 Adam steps from } u_0=P^{-1}(\mu_E(x))",
        ),
        notes=(r"The faces GAN: hinge loss with spectral norm on $D$, DiffAugment, and the moving average of $G$ "
               r"shipped. A sample's $\lVert z\rVert\approx\sqrt{100}=10$; the straight line "
               r"$(1-t)\,z_0+t\,z_1$ passes at $\approx 7$ in the middle, where $G$ was hardly trained. "
               r"Faces v2 adds an encoder $E$ trained with $G$ (Larsen et al.): $D_l$ is the critic's last hidden "
               r"layer, a learned similarity; $P$ is a Gaussian fitted to $E$'s codes after training, and the "
               r"tab's latent is its whitened $u\sim\mathcal{N}(0,I)$, so seeds and slerp work as for the DCGAN."),
        look=("slerp against lerp: the straight line's middle is about 30 % shorter than any sample, and its faces "
              "look paler and more average.",
              "Every point on the path is a face, and the change is smooth: the generator maps the whole shell "
              r"$\lVert z\rVert\approx 10$ to faces, not a list of memorised pictures.",
              "A seed fixes z: seed 11 → 42 is the same walk on every machine (the examples here are that walk)."),
        papers=(DCGAN, GOODFELLOW, WHITE, MIYATO, LARSEN,
                Paper("Zhu, Krähenbühl, Shechtman & Efros", 2016, "Generative Visual Manipulation on the Natural "
                      "Image Manifold (iGAN)", "ECCV 2016", "1609.03552")),
    ),
    "vector_arithmetic": Lecture(
        title="Vector arithmetic in z",
        objective=(
            r"z^{*}=\sqrt{100}\;\frac{\bar z_A-\bar z_B+\bar z_C}{\lVert\bar z_A-\bar z_B+\bar z_C\rVert},"
            r"\qquad \bar z_A=\tfrac{1}{3}\textstyle\sum_{i=1}^{3} z_{A,i}",
            r"z_{edit}=z+\alpha\,d_a,\qquad d_a=\mathbb{E}\big[z\mid p_a(G(z))\ge 0.5\big]"
            r"-\mathbb{E}\big[z\mid p_a(G(z))<0.5\big]",
            r"\mathcal{L}_C=-\frac{1}{40}\sum_{a=1}^{40}\Big[y_a\log p_a(x)+(1-y_a)\log\big(1-p_a(x)\big)\Big],"
            r"\qquad p_a=\sigma(C_a)",
        ),
        notes=(r"A, B, C: three exemplars each, e.g. smiling woman − neutral woman + neutral man; the result is "
               r"put back on the shell $\lVert z\rVert=10$ where $G$ was trained; the $3\times3$ grid adds uniform "
               r"noise in $[-0.25,0.25]$ (the paper's figure). $C$, our attribute classifier (40 CelebA "
               r"attributes), picks the exemplars and judges the result."),
        look=("The classifier, not our eyes, says whether A − B + C worked; the status line gives the preset's "
              "success rate over 100 draws and how often random faces already qualify.",
              "Means of three faces per concept, not single faces: one face carries its own identity and "
              "background into the sum.",
              r"The attribute sliders move $z$ along $d_a$; correlated attributes move together (here the Smiling "
              r"and Male directions have $\cos=-0.76$)."),
        papers=(DCGAN, WHITE, Paper("Liu, Luo, Wang & Tang", 2015, "Deep Learning Face Attributes in the Wild "
                                    "(CelebA)", "ICCV 2015", "1411.7766")),
    ),
    "gan_playground": Lecture(
        title="Six GAN losses, and a VAE beside them",
        objective=(
            r"\begin{array}{lll} & \mathcal{L}_D & \mathcal{L}_G\\ \hline"
            r"\text{minimax} & -\mathbb{E}\log D(x)-\mathbb{E}\log(1-D(G(z))) & \mathbb{E}\log(1-D(G(z)))\\"
            r"\text{non-saturating} & \text{the same} & -\mathbb{E}\log D(G(z))\\"
            r"\text{LSGAN} & \tfrac12\mathbb{E}(D(x)-1)^2+\tfrac12\mathbb{E}\,D(G(z))^2"
            r" & \tfrac12\mathbb{E}(D(G(z))-1)^2\\"
            r"\text{WGAN} & \mathbb{E}\,D(G(z))-\mathbb{E}\,D(x),\ \ w\in[-c,c] & -\mathbb{E}\,D(G(z))\\"
            r"\text{WGAN-GP} & \mathbb{E}\,D(G(z))-\mathbb{E}\,D(x)+\lambda\,\mathbb{E}\big(\lVert\nabla_{\hat x}"
            r"D(\hat x)\rVert_2-1\big)^2 & -\mathbb{E}\,D(G(z))\\"
            r"\text{hinge + SN} & \mathbb{E}\max(0,1-D(x))+\mathbb{E}\max(0,1+D(G(z))) & -\mathbb{E}\,D(G(z))"
            r"\end{array}",
            r"\hat x=\epsilon\,x+(1-\epsilon)\,G(z),\ \ \epsilon\sim U[0,1];\qquad"
            r"-\mathrm{ELBO}=\mathbb{E}_{z\sim q(z\mid x)}\frac{\lVert x-\mathrm{dec}(z)\rVert^2}{2\sigma^2}"
            r"+\mathrm{KL}\big(q(z\mid x)\,\Vert\,\mathcal{N}(0,I)\big)",
        ),
        notes=(r"First three rows: $D(x)=\mathrm{sigmoid}$ of the score (LSGAN: the score itself); last three: an "
               r"unbounded critic. Here $c=0.05$ (the paper: 0.01), $\lambda=0.1$ (the paper's toy setting; 10 for "
               r"images), SN divides each weight matrix by its largest singular value. The VAE: $\sigma=0.15$."),
        look=("Non-saturating with a strong D (5 D steps per G step): G collapses onto a few of the 8 modes; "
              "watch the modes-covered number.",
              "WGAN-GP, and hinge with spectral norm, cover all 8: a critic with a bounded slope still gives G a "
              "gradient far from the data.",
              "The VAE misses no mode but smears points between them: likelihood punishes missing data, "
              "not blur."),
        papers=(GOODFELLOW,
                Paper("Arjovsky, Chintala & Bottou", 2017, "Wasserstein GAN", "ICML 2017", "1701.07875"),
                Paper("Gulrajani, Ahmed, Arjovsky, Dumoulin & Courville", 2017, "Improved Training of Wasserstein "
                      "GANs", "NeurIPS 2017", "1704.00028"),
                Paper("Mao, Li, Xie, Lau, Wang & Smolley", 2017, "Least Squares Generative Adversarial Networks",
                      "ICCV 2017", "1611.04076"),
                MIYATO,
                Paper("Lim & Ye", 2017, "Geometric GAN (the hinge loss)", "arXiv preprint", "1705.02894"),
                Paper("Kingma & Welling", 2014, "Auto-Encoding Variational Bayes", "ICLR 2014", "1312.6114"),
                Paper("Kahng, Thorat, Chau, Viégas & Wattenberg", 2018, "GAN Lab: Understanding Complex Deep "
                      "Generative Models using Interactive Visual Experimentation", "IEEE VIS 2018", "1809.01587")),
    ),
    "colorization": Lecture(
        title="Colorization as classification: rebalanced cross-entropy, annealed mean",
        objective=(
            r"\mathcal{L}_{cl}(\hat Z,Z)=-\sum_{h,w} v(Z_{h,w})\sum_{q=1}^{Q} Z_{h,w,q}\,\log\hat Z_{h,w,q},"
            r"\qquad Q=261",
            r"v(Z_{h,w})=w_{q^{*}},\ \ q^{*}=\arg\max_q Z_{h,w,q},\qquad "
            r"w\propto\Big((1-\lambda)\,\tilde p+\frac{\lambda}{Q}\Big)^{-1},\ \ \mathbb{E}_{\tilde p}[w]=1,"
            r"\ \ \lambda=\tfrac12",
            r"H(\hat Z_{h,w})=\mathbb{E}\big[f_T(\hat Z_{h,w})\big],\qquad "
            r"f_T(z)_q=\frac{\exp(\log z_q/T)}{\sum_{q'}\exp(\log z_{q'}/T)},\qquad T=0.38",
        ),
        notes=(r"$\hat Z$: the net's distribution over $Q$ ab bins per pixel (the paper: 313; ours: the 261 bins of "
               r"the sRGB gamut); $Z$: the true colour soft-encoded on its 5 nearest bins (Gaussian, $\sigma=5$); "
               r"$\tilde p$: the training colours' distribution, smoothed. The L2 baseline beside it minimises "
               r"$\tfrac12\sum_{h,w}\lVert Y_{h,w}-\hat Y_{h,w}\rVert_2^2$. Hints (Zhang et al. 2017): the net also "
               r"gets $(a, b, \text{mask})$ at the clicked points."),
        look=("The L2 baseline beside it is sepia: the mean of the plausible colours of a coat or a sky is a "
              "brownish grey.",
              r"The temperature: $T=1$ gives the distribution's mean (dull), $T\to 0$ its mode (vivid but patchy); "
              r"$T=0.38$ is the paper's compromise.",
              "One hint recolours the whole region the net groups with it, and every edge stays the photo's "
              "(colour at low resolution on the full-resolution lightness)."),
        papers=(Paper("Zhang, Isola & Efros", 2016, "Colorful Image Colorization", "ECCV 2016", "1603.08511"),
                Paper("Zhang, Zhu, Isola, Geng, Lin, Yu & Efros", 2017, "Real-Time User-Guided Image Colorization "
                      "with Learned Deep Priors", "SIGGRAPH 2017", "1705.02999")),
    ),
    "text_edit": Lecture(
        title="Text-guided edit: InterFaceGAN boundaries, read from a sentence",
        objective=(
            r"f_a(z)=n_a\cdot z+b_a,\qquad \lVert n_a\rVert=1,\qquad z\in\mathbb{R}^{100}",
            r"z'=z+\alpha\,n_1,\qquad n_1^{\perp}=n_1-(n_1\cdot n_2)\,n_2",
            r"\Delta z=\arg\min\lVert\Delta z\rVert\ \text{ with }\ n_a\cdot\Delta z=1.25\,s-f_a(z),\ \ "
            r"n_k\cdot\Delta z=0\ \ (k\in\{\mathrm{Male},\mathrm{Young}\})",
            r"\text{text score:}\ z^{*}=\arg\min_z\ s\,\big(1-\cos(F(G(z)),T(p))\big)"
            r"+0.1\,\big(1-\cos(\phi(G(z)),\phi(G(z_0)))\big)+0.05\,\tfrac{\lVert z-z_0\rVert^2}{D}",
        ),
        notes=(r"$f_a$: the signed distance of the latent $z$ to attribute $a$'s boundary, a logistic regression on "
               r"12,000 generated faces labelled by our attribute classifier. The second line is InterFaceGAN's edit, "
               r"and its conditional form: the step along $n_1$ with the part along $n_2$ taken out, so attribute 2 "
               r"stays. The tab moves the face to $1.25\,s$ past each asked boundary ($s$: the strength, 0.5 for "
               r"“slightly”, 1.5 for “very”) by the shortest step that keeps the distances to the Male and "
               r"Young boundaries. A sentence encoder (MiniLM, 22 M parameters) maps the prompt's phrases to "
               r"attributes. The text-score mode is StyleCLIP's latent optimisation without CLIP: $T$ is MiniLM, "
               r"$F$ an image encoder trained here contrastively against $T$'s embeddings of captions built from "
               r"the CelebA attributes (CLIP's loss), $\phi$ the classifier's penultimate features (identity); "
               r"40 Adam steps."),
        look=("Ask for one thing (“make her smile”): the classifier's before/after table says whether it was met, "
              "and gender and age should stay (they are conditioned).",
              "Attributes are correlated in the GAN's latent space: the plain step along one normal changes the others "
              "too; the conditioned step is a little longer and keeps them.",
              "Negations and intensities are read off the sentence (“without the moustache”, “slightly "
              "older”); nonsense gets the list of what can be edited."),
        papers=(Paper("Shen, Gu, Tang & Zhou", 2020, "Interpreting the Latent Space of GANs for Semantic Face Editing "
                      "(InterFaceGAN)", "CVPR 2020", "1907.10786"),
                Paper("Patashnik, Wu, Shechtman, Cohen-Or & Lischinski", 2021, "StyleCLIP: Text-Driven Manipulation of "
                      "StyleGAN Imagery", "ICCV 2021", "2103.17249"),
                Paper("Xia, Yang, Xue & Wu", 2021, "TediGAN: Text-Guided Diverse Face Image Generation and "
                      "Manipulation", "CVPR 2021", "2012.03308"),
                Paper("Reimers & Gurevych", 2019, "Sentence-BERT: Sentence Embeddings using Siamese BERT-Networks",
                      "EMNLP 2019", "1908.10084"),
                Paper("Radford, Kim, Hallacy, Ramesh, Goh, Agarwal, Sastry, Askell, Mishkin, Clark, Krueger & "
                      "Sutskever", 2021, "Learning Transferable Visual Models From Natural Language Supervision "
                      "(CLIP)", "ICML 2021", "2103.00020")),
    ),
    "inpainting": Lecture(
        title="Inpainting: a context encoder with a patch critic, and a GAN prior searched per face",
        objective=(
            r"\mathcal{L}=\lambda_{rec}\,\big\lVert \hat M\odot\big(x-G((1-\hat M)\odot x)\big)\big\rVert_2^2"
            r"+\lambda_{adv}\,\mathcal{L}_{adv}\qquad\text{(Pathak et al.)}",
            r"\mathcal{L}_G=20\,\lVert M\odot(x-\hat x)\rVert_1+2\,\lVert (1-M)\odot(x-\hat x)\rVert_1"
            r"-1\cdot\mathbb{E}\,D(\tilde x,M),\qquad \hat x=G\big((1-M)\odot x,M\big),\ \ "
            r"\tilde x=(1-M)\odot x+M\odot\hat x",
            r"\hat z=\arg\min_z\,\lVert W\odot(G(z)-y)\rVert_1+\lambda\log\big(1-D(G(z))\big)"
            r"\qquad\text{(Yeh et al.; here: 200 steps, }\lVert z\rVert=\sqrt{100}\text{)}",
        ),
        notes=(r"$M$ ($\hat M$ in the paper): the mask, 1 in the hole (the centre square or brush strokes); each "
               r"L1 is a mean over its own pixels. $D$: an SN-PatchGAN (spectral norm, hinge loss) that sees the "
               r"completed face $\tilde x$ and the mask, so it judges every part of a free-form fill. The prior: "
               r"$y$ is the face with its hole, $W$ weighs each known pixel by the share of hole around it (at "
               r"least 0.1); our faces GAN kept no $D$, so instead of the prior term $z$ is put back on the sphere "
               r"$\lVert z\rVert=\sqrt{100}$ after each of 200 Adam steps, from 4 starts."),
        look=("Ours is sharp and takes milliseconds: trained for this, it fills the hole in one pass (its time is "
              "under the picture).",
              "The GAN prior's fill is a plausible face but often not the same person: it can only paste in a face "
              "the GAN can make, and the search takes seconds.",
              "The biharmonic baseline smears the edge's colours inward: fine for thin strokes, a blur across the "
              "centre square."),
        papers=(Paper("Pathak, Krähenbühl, Donahue, Darrell & Efros", 2016, "Context Encoders: Feature Learning by "
                      "Inpainting", "CVPR 2016", "1604.07379"),
                Paper("Yeh, Chen, Lim, Schwing, Hasegawa-Johnson & Do", 2017, "Semantic Image Inpainting with Deep "
                      "Generative Models", "CVPR 2017", "1607.07539"),
                Paper("Yu, Lin, Yang, Shen, Lu & Huang", 2019, "Free-Form Image Inpainting with Gated Convolution "
                      "(SN-PatchGAN)", "ICCV 2019", "1806.03589"),
                MIYATO),
    ),
}


def examples() -> dict[str, list[tuple[Path, str]]]:
    """The pre-computed examples per tab key: [(file, caption)] (files that are missing are left out)."""
    try:
        manifest = json.loads(MANIFEST.read_text())
    except (OSError, ValueError):
        return {}
    out: dict[str, list[tuple[Path, str]]] = {}
    for key, items in manifest.items():
        files = [(ASSETS / item["file"], item["caption"]) for item in items
                 if isinstance(item, dict) and (ASSETS / str(item.get("file", ""))).is_file()]
        if files:
            out[key] = files
    return out


def markdown(key: str) -> tuple[str, str]:
    """The panel's text: (title, formulas and what the symbols are; what to look at and the papers)."""
    lec = LECTURES[key]
    formulas = "\n\n".join(f"$${f}$$" for f in lec.objective)
    look = "\n".join(f"{i}. {line}" for i, line in enumerate(lec.look, 1))
    papers = "\n".join(f"- {p.markdown()}" for p in lec.papers)
    return (f"### Lecture notes: {lec.title}\n\n{formulas}\n\n{lec.notes}",
            f"**What to look at**\n\n{look}\n\n**Paper{'s' if len(lec.papers) > 1 else ''}**\n\n{papers}")


def panel(key: str) -> gr.Column | None:
    """The lecture panel at the top of tab `key` (none for tabs without notes): in every page, shown
    only in lecture mode (CSS below). The formulas take the full width (a projector's is small); what
    to look at and the papers sit beside the examples. Builds no event: the gallery's enlarged view
    is the browser's own, and its pictures load only when shown (lazily)."""
    if key not in LECTURES:
        return None
    maths, rest = markdown(key)
    shown = examples().get(key, [])
    with gr.Column(elem_classes=["lab-lecture-panel"], elem_id=f"lecture-{key}") as column:
        gr.Markdown(maths, latex_delimiters=LATEX, elem_classes=["lab-lecture-notes"])
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=320):
                gr.Markdown(rest, latex_delimiters=LATEX, elem_classes=["lab-lecture-notes"])
            if shown:
                with gr.Column(scale=1, min_width=320):
                    gr.Markdown("**Pre-computed examples** (our models, fixed seeds: redo them live in the tab; "
                                "click one to enlarge)", elem_classes=["lab-lecture-notes"])
                    gr.Gallery(value=[(str(path), caption) for path, caption in shown], columns=1,
                               show_label=False, allow_preview=True, interactive=False, object_fit="contain",
                               elem_classes=["lab-fit", "lab-lecture-examples"])
    return column


# In the browser only: the switch sets the class on <html> and keeps ?lecture=1 in the address (a
# reload or a bookmark keeps the mode); the page's load reads it back and sets the switch. Gradio's
# tab bars measure their buttons only when their width changes: narrowing them by 1 px for a frame
# makes them measure again at the new font size (else the labels are cut off).
_ON = "v => ['1', 'true', 'yes', 'on'].includes(String(v || '').trim().toLowerCase())"
_SET = f"""(on) => {{
        if (document.documentElement.classList.contains('{ROOT_CLASS}') === on) return;
        document.documentElement.classList.toggle('{ROOT_CLASS}', on);
        const bars = [...document.querySelectorAll('.tabs')];
        bars.forEach(bar => {{ bar.style.width = 'calc(100% - 1px)'; }});
        requestAnimationFrame(() => requestAnimationFrame(() => bars.forEach(bar => {{ bar.style.width = ''; }})));
    }}"""
SWITCH_JS = f"""(on) => {{
    on = !!on;
    ({_SET})(on);
    const url = new URL(window.location.href);
    if (on) url.searchParams.set('{PARAM}', '1'); else url.searchParams.delete('{PARAM}');
    window.history.replaceState(window.history.state, '', url);
}}"""
LOAD_JS = f"""() => {{
    const on = ({_ON})(new URLSearchParams(window.location.search).get('{PARAM}'));
    ({_SET})(on);
    return on;
}}"""


def switch(demo: gr.Blocks) -> gr.Checkbox:
    """The header's switch and its two browser-only events (no Python function: nothing queued)."""
    box = gr.Checkbox(False, label="Lecture mode: formulas, pre-computed examples, large fonts (or ?lecture=1)",
                      elem_id="lecture-switch", container=False)
    box.change(None, [box], None, js=SWITCH_JS, api_name=False, queue=False)
    demo.load(None, None, [box], js=LOAD_JS, api_name=False, queue=False)
    return box


# Large fonts: Gradio's theme sizes are CSS variables on the root element; overriding them there (a
# more specific selector than the theme's :root) makes every size derived from them grow too.
_SIZES = {"xxs": 13, "xs": 15, "sm": 17, "md": 20, "lg": 23, "xl": 30, "xxl": 36}  # px; the theme: 9..26
CSS = "\n".join([
    f"html:not(.{ROOT_CLASS}) .lab-lecture-panel {{display: none !important;}}",
    f"html.{ROOT_CLASS} {{{' '.join(f'--text-{k}: {v}px;' for k, v in _SIZES.items())}}}",
    f"html.{ROOT_CLASS} .prose, html.{ROOT_CLASS} .md {{font-size: var(--text-md);}}",
    ".lab-lecture-panel {border-left: 4px solid #1d4ed8; padding: 0.4em 0 0.4em 0.9em; margin-bottom: 0.6em;"
    " background: rgba(29, 78, 216, 0.05);}",
    ".lab-lecture-notes .katex-display {overflow-x: auto; overflow-y: hidden; padding: 0.15em 0;}",
    ".lab-lecture-notes .katex {font-size: 1.12em;}",
    # The examples are wide strips: each at its own aspect ratio, its caption under it (not over it).
    ".lab-lecture-examples .grid-container {grid-auto-rows: auto !important;}",
    ".lab-lecture-examples .thumbnail-item {aspect-ratio: auto !important; height: auto !important;"
    " display: flex !important; flex-direction: column;}",
    ".lab-lecture-examples .thumbnail-item img {width: 100% !important; height: auto !important;}",
    ".lab-lecture-examples .caption-label {position: static !important; max-width: none !important;"
    " white-space: normal !important; text-overflow: clip !important; overflow: visible !important;"
    " text-align: left; font-size: var(--text-sm); line-height: 1.3; margin: 0.3em 0 0 0 !important;"
    " transform: none !important;}",
])

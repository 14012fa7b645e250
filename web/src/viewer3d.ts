/**
 * The 3D view of a subject's template, of one enrolled face, or of a photo's face that is not
 * stored (Verify's dropped photos, made by POST /meshes/probe.glb): the server's GLB loaded with
 * GLTFLoader, orbit by mouse or keyboard, textured or shape-only, wireframe, with or without
 * expression, and the PLY / OBJ / GLB downloads. Renders on demand (after a change), not in a loop.
 */
import {
  AmbientLight,
  Box3,
  Color,
  DirectionalLight,
  Material,
  Mesh,
  MeshStandardMaterial,
  PerspectiveCamera,
  Scene,
  Sphere,
  Spherical,
  TextureLoader,
  Vector3,
  WebGLRenderer,
  type Object3D,
} from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import { GLTFLoader, type GLTFLoaderPlugin, type GLTFParser } from 'three/examples/jsm/loaders/GLTFLoader.js';
import { describeError, type Api } from './api.js';
import { h } from './dom.js';
import { meshQuery, type MeshFiles, type MeshFormat, type ProbeMeshFormat } from './queries.js';

/** An enrolled face or a subject's template by id, or a photo the server does not keep. */
export type MeshTarget = ({ readonly kind: 'subject' | 'face'; readonly id: string } | { readonly kind: 'probe'; readonly image: File }) & {
  /** Shown above the view and used in its accessible name, e.g. "Ada's template". */
  readonly label: string;
};

/** One file of a mesh export and the name to save it under. */
interface MeshDownload {
  readonly name: string;
  readonly blob: Blob;
}

const MESH_FORMATS: readonly MeshFormat[] = ['PLY', 'OBJ', 'GLB'];
/** A photo that is not stored gets one-file formats only: OBJ's MTL and texture would need the photo again. */
const PROBE_FORMATS: readonly ProbeMeshFormat[] = ['PLY', 'GLB'];

export const VIEW_BACKGROUND = 0x1c1c21;
const SHAPE_COLOUR = 0xd9d6d0;
const KEY_TURN = Math.PI / 24;

interface ViewState {
  textured: boolean;
  wireframe: boolean;
  expression: boolean;
}

/**
 * GLTFLoader reads embedded textures by fetching blob: URLs, which a `connect-src 'self'` policy
 * forbids; an <img> may still show them (`img-src blob:`), so textures load through TextureLoader.
 */
function imageElementTextures(parser: GLTFParser): GLTFLoaderPlugin {
  parser.textureLoader = new TextureLoader();
  return { name: 'face3d_image_element_textures' };
}

function disposeObject(root: Object3D): void {
  root.traverse((object) => {
    if (object instanceof Mesh) {
      object.geometry.dispose();
      for (const material of [object.material].flat() as Material[]) material.dispose();
    }
  });
}

export class MeshViewer {
  readonly element: HTMLElement;
  private readonly renderer: WebGLRenderer | null;
  private readonly scene = new Scene();
  private readonly camera = new PerspectiveCamera(30, 1, 1, 5000);
  private readonly controls: OrbitControls | null;
  private readonly canvasHolder = h('div', { class: 'canvas-holder' });
  private readonly caption = h('p', { class: 'viewer-caption', 'aria-live': 'polite' });
  private readonly resizeObserver: ResizeObserver;
  private readonly downloadButtons: ReadonlyMap<MeshFormat, HTMLButtonElement>;
  private target: MeshTarget | null = null;
  private model: Object3D | null = null;
  private faceMesh: Mesh | null = null;
  private texturedMaterial: Material | null = null;
  private readonly shapeMaterial = new MeshStandardMaterial({ color: SHAPE_COLOUR, roughness: 0.65, metalness: 0 });
  private readonly state: ViewState = { textured: true, wireframe: false, expression: false };
  private loadGeneration = 0;

  constructor(
    private readonly api: Api,
    idPrefix: string,
  ) {
    this.renderer = MeshViewer.createRenderer();
    const toggle = (name: keyof ViewState, label: string) => {
      const input = h('input', { type: 'checkbox', id: `${idPrefix}-${name}`, checked: this.state[name] });
      input.addEventListener('change', () => {
        this.state[name] = input.checked;
        if (name === 'expression') void this.reload();
        else this.applyMaterial();
      });
      return h('span', { class: 'toggle' }, input, h('label', { for: `${idPrefix}-${name}` }, label));
    };
    this.downloadButtons = new Map(MESH_FORMATS.map((format) => [format, h('button', { type: 'button', onclick: () => void this.download(format) }, format)]));
    this.element = h(
      'section',
      { class: 'mesh-viewer', 'aria-label': '3D view' },
      this.caption,
      this.canvasHolder,
      h('div', { class: 'viewer-controls' }, toggle('textured', 'Textured'), toggle('wireframe', 'Wireframe'), toggle('expression', 'Expression'), h('button', { type: 'button', onclick: () => this.resetView() }, 'Reset view')),
      h('div', { class: 'viewer-downloads', role: 'group', 'aria-label': 'Download the mesh' }, h('span', {}, 'Download:'), ...this.downloadButtons.values()),
    );
    if (this.renderer) {
      const canvas = this.renderer.domElement;
      canvas.tabIndex = 0;
      canvas.setAttribute('role', 'img');
      canvas.setAttribute('aria-label', '3D face: drag or use the arrow keys to turn it, + and - to zoom');
      canvas.addEventListener('keydown', (event) => this.onKey(event));
      this.canvasHolder.append(canvas);
      this.controls = new OrbitControls(this.camera, canvas);
      this.controls.addEventListener('change', () => this.render());
      this.scene.background = new Color(VIEW_BACKGROUND);
      this.scene.add(new AmbientLight(0xffffff, 0.9));
      const light = new DirectionalLight(0xffffff, 2.2);
      light.position.set(0.4, 0.6, 1);
      this.camera.add(light);
      this.scene.add(this.camera);
    } else {
      this.controls = null;
      this.canvasHolder.append(h('p', { class: 'error' }, 'This browser cannot show 3D (WebGL is not available). The downloads still work.'));
    }
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(this.canvasHolder);
  }

  private static createRenderer(): WebGLRenderer | null {
    try {
      return new WebGLRenderer({ antialias: true });
    } catch {
      return null;
    }
  }

  async show(target: MeshTarget): Promise<void> {
    this.target = target;
    for (const [format, button] of this.downloadButtons) button.hidden = target.kind === 'probe' && !PROBE_FORMATS.some((offered) => offered === format);
    await this.reload();
  }

  dispose(): void {
    this.loadGeneration++;
    this.resizeObserver.disconnect();
    this.controls?.dispose();
    if (this.model) disposeObject(this.model);
    this.shapeMaterial.dispose();
    this.renderer?.dispose();
  }

  /** The files of the target's mesh (the main one first); null when it has no face enrolled yet. */
  private async meshFiles(format: MeshFormat): Promise<MeshDownload[] | null> {
    const target = this.target!;
    if (target.kind === 'probe') {
      const probeFormat = PROBE_FORMATS.find((offered) => offered === format);
      if (!probeFormat) throw new Error(`a photo that is not enrolled has no ${format} mesh`);
      const stem = target.image.name.replace(/\.[^.]*$/, '') || 'photo';
      return [{ name: `${stem}-face.${format.toLowerCase()}`, blob: await this.api.probeMesh(target.image, probeFormat, this.state.expression) }];
    }
    const data = await this.api.query<{ target: { mesh: MeshFiles | null } | null }>(meshQuery(target.kind), { id: target.id, format, expression: this.state.expression });
    const mesh = data.target?.mesh;
    return mesh ? Promise.all(mesh.files.map(async (file) => ({ name: file.name, blob: await this.api.download(file.url) }))) : null;
  }

  private async reload(): Promise<void> {
    if (!this.target || !this.renderer) return;
    const generation = ++this.loadGeneration;
    const { label } = this.target;
    this.caption.textContent = `Loading ${label}…`;
    this.element.dataset.state = 'loading';
    try {
      const files = await this.meshFiles('GLB');
      if (generation !== this.loadGeneration) return;
      if (!files) {
        this.replaceModel(null);
        this.caption.textContent = `${label}: no face enrolled yet.`;
        this.element.dataset.state = 'empty';
        return;
      }
      const bytes = await files[0].blob.arrayBuffer();
      const gltf = await new GLTFLoader().register(imageElementTextures).parseAsync(bytes, '');
      if (generation !== this.loadGeneration) return disposeObject(gltf.scene);
      this.replaceModel(gltf.scene);
      this.caption.textContent = `${label}${this.state.expression ? ', with expression' : ''}`;
      this.element.dataset.state = 'ready';
    } catch (error) {
      if (generation !== this.loadGeneration) return;
      this.caption.textContent = `${label}: ${describeError(error)}`;
      this.element.dataset.state = 'error';
    }
  }

  private replaceModel(model: Object3D | null): void {
    if (this.model) {
      this.scene.remove(this.model);
      disposeObject(this.model);
    }
    this.model = model;
    const meshes: Mesh[] = [];
    model?.traverse((object) => {
      if (object instanceof Mesh) meshes.push(object);
    });
    this.faceMesh = meshes[0] ?? null;
    this.texturedMaterial = null;
    if (this.faceMesh) this.texturedMaterial = this.faceMesh.material as MeshStandardMaterial;
    if (model) {
      this.scene.add(model);
      this.applyMaterial();
      this.resetView();
    } else {
      this.render();
    }
  }

  private applyMaterial(): void {
    if (!this.faceMesh || !this.texturedMaterial) return;
    const material = this.state.textured ? this.texturedMaterial : this.shapeMaterial;
    for (const candidate of [this.texturedMaterial, this.shapeMaterial] as MeshStandardMaterial[]) {
      candidate.wireframe = this.state.wireframe;
      candidate.needsUpdate = true;
    }
    this.faceMesh.material = material;
    this.render();
  }

  /** Frames the model: looking at its centre from the front, its bounding sphere filling the view. */
  private resetView(): void {
    if (!this.model || !this.controls) return;
    const sphere = new Box3().setFromObject(this.model).getBoundingSphere(new Sphere());
    const distance = sphere.radius / Math.sin(((this.camera.fov / 2) * Math.PI) / 180);
    this.camera.near = distance / 20;
    this.camera.far = distance * 20;
    this.camera.position.copy(sphere.center).add(new Vector3(0, 0, distance * 1.05));
    this.camera.updateProjectionMatrix();
    this.controls.target.copy(sphere.center);
    this.controls.update();
    this.render();
  }

  private onKey(event: KeyboardEvent): void {
    if (!this.controls) return;
    const turns: Record<string, [number, number]> = { ArrowLeft: [-KEY_TURN, 0], ArrowRight: [KEY_TURN, 0], ArrowUp: [0, -KEY_TURN], ArrowDown: [0, KEY_TURN] };
    const offset = this.camera.position.clone().sub(this.controls.target);
    const spherical = new Spherical().setFromVector3(offset);
    if (event.key in turns) {
      const [theta, phi] = turns[event.key];
      spherical.theta += theta;
      spherical.phi = Math.min(Math.PI - 0.01, Math.max(0.01, spherical.phi + phi));
    } else if (event.key === '+' || event.key === '=' || event.key === '-') {
      spherical.radius *= event.key === '-' ? 1.1 : 1 / 1.1;
    } else {
      return;
    }
    event.preventDefault();
    this.camera.position.copy(this.controls.target).add(new Vector3().setFromSpherical(spherical));
    this.controls.update();
  }

  private resize(): void {
    if (!this.renderer) return;
    const { clientWidth, clientHeight } = this.canvasHolder;
    if (clientWidth === 0 || clientHeight === 0) return;
    this.renderer.setPixelRatio(window.devicePixelRatio);
    this.renderer.setSize(clientWidth, clientHeight, false);
    this.camera.aspect = clientWidth / clientHeight;
    this.camera.updateProjectionMatrix();
    this.render();
  }

  private render(): void {
    this.renderer?.render(this.scene, this.camera);
  }

  /** Every file of the format (OBJ: .obj, .mtl, .png), each saved under the server's name. */
  private async download(format: MeshFormat): Promise<void> {
    if (!this.target) return;
    try {
      const files = await this.meshFiles(format);
      if (!files) throw new Error('no face is enrolled yet, so there is no mesh');
      for (const file of files) {
        const url = URL.createObjectURL(file.blob);
        const link = h('a', { href: url, download: file.name });
        document.body.append(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10_000);
      }
      this.caption.textContent = `${this.target.label}: ${format} downloaded (${files.map((file) => file.name).join(', ')})`;
    } catch (error) {
      this.caption.textContent = `${this.target.label}: the ${format} download failed. ${describeError(error)}`;
    }
  }
}

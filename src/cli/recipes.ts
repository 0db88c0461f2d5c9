// `layerwise recipes [NAME] [--json]`: the paper's training recipes (src/train/recipes.ts) and
// the settings each one gives `train --recipe NAME` (every explicit option overrides them).
import { Command } from 'commander';
import { RECIPES, acceptedDataKinds, formatRecipe, recipe, recipeNames } from '../train/recipes';
import { choice } from './options';

export function registerRecipes(program: Command): void {
  program
    .command('recipes')
    .description("list the paper's training recipes (train --recipe NAME) and what each sets")
    .argument('[name]', `one recipe: ${recipeNames().join(', ')}`, choice(recipeNames()))
    .option('--json', 'one JSON object per recipe')
    .addHelpText('after', '\nExamples:\n  layerwise recipes\n  layerwise recipes vit_small-sgd-basic\n  layerwise train --recipe resnet50-sgd-basic --data imagenet:/data/imagenet')
    .action((name: string | undefined, opts) => {
      const list = name ? [recipe(name)] : Object.values(RECIPES);
      for (const r of list) {
        if (opts.json) console.log(JSON.stringify({ name: r.name, description: r.description, paper: r.paperRow, data: acceptedDataKinds(r), settings: r.settings, notes: r.notes }));
        else console.log(`${formatRecipe(r)}\n`);
      }
    });
}
